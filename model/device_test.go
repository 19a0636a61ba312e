package model

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
)

// testDevice is a device for tests only, not a GPU: its memory is an arena
// of its own that the executor reaches only through handles, and it counts
// the bytes that cross between host and device and its calls by kind. It
// computes with the CPU's kernels on its own memory, so that its results
// can be compared with the tape machine's bit for bit.
type testDevice struct {
	mem       [][]float32
	up, down  int // bytes uploaded and downloaded
	calls     map[string]int
	allocated int // buffers not freed
}

// handle is a testDevice buffer: an index into its arena.
type handle struct {
	dev *testDevice
	id  int
}

func (h handle) Len() int { return len(h.dev.mem[h.id]) }

func newTestDevice() *testDevice { return &testDevice{calls: map[string]int{}} }

// buf returns the memory behind a buffer, refusing any that is not its own.
func (d *testDevice) buf(b Buffer) Buffer {
	if b == nil {
		return nil
	}
	h, ok := b.(handle)
	if !ok || h.dev != d || d.mem[h.id] == nil {
		panic(fmt.Sprintf("test device: a buffer not its own: %T", b))
	}
	return Host(d.mem[h.id])
}

func (d *testDevice) bufs(bs []Buffer) []Buffer {
	out := make([]Buffer, len(bs))
	for i, b := range bs {
		out[i] = d.buf(b)
	}
	return out
}

// The Device methods below resolve the handles to the device's own memory
// and do there what CPU does, counting bytes and calls.

// Name is "test".
func (d *testDevice) Name() string { return "test" }

func (d *testDevice) Alloc(n int) (Buffer, error) {
	d.mem = append(d.mem, make([]float32, n))
	d.allocated++
	return handle{d, len(d.mem) - 1}, nil
}

func (d *testDevice) Free(b Buffer) error {
	d.buf(b)
	d.mem[b.(handle).id] = nil
	d.allocated--
	return nil
}

func (d *testDevice) Upload(dst Buffer, src []float32) error {
	d.up += 4 * len(src)
	return CPU{}.Upload(d.buf(dst), src)
}

func (d *testDevice) Download(dst []float32, src Buffer) error {
	d.down += 4 * len(dst)
	return CPU{}.Download(dst, d.buf(src))
}

func (d *testDevice) Forward(k Kernel, out Buffer, in []Buffer) error {
	d.calls[k.Name()]++
	return CPU{}.Forward(k, d.buf(out), d.bufs(in))
}

func (d *testDevice) Backward(k Kernel, din, in []Buffer, out, dout Buffer) error {
	d.calls[k.Name()+"ᵀ"]++
	return CPU{}.Backward(k, d.bufs(din), d.bufs(in), d.buf(out), d.buf(dout))
}

func (d *testDevice) Add(dst, a, b Buffer) error {
	d.calls["Add"]++
	return CPU{}.Add(d.buf(dst), d.buf(a), d.buf(b))
}

func (d *testDevice) Sum(dst, src Buffer) error {
	d.calls["Sum"]++
	return CPU{}.Sum(d.buf(dst), d.buf(src))
}

func (d *testDevice) Fill(dst Buffer, v float32) error {
	d.calls["Fill"]++
	return CPU{}.Fill(d.buf(dst), v)
}

func (d *testDevice) Broadcast(dst, src Buffer) error {
	d.calls["Broadcast"]++
	return CPU{}.Broadcast(d.buf(dst), d.buf(src))
}

// opKinds counts a graph's nodes by what a device executor has to do for
// them: a kernel's forward (its name) or backward (name + "ᵀ"), "pick" for
// the nodes that hand on further input gradients, "input" for inputs and
// parameters, and gorgonia's own nodes by their Go type.
func opKinds(gr *Graph) map[string]int {
	kinds := map[string]int{}
	for _, n := range gr.g.AllNodes() {
		switch op := n.Op().(type) {
		case nil:
			kinds["input"]++
		case *kernelOp:
			kinds[op.k.Name()]++
		case *kernelGradOp:
			kinds[op.fwd.k.Name()+"ᵀ"]++
		case *gradPickOp:
			kinds["pick"]++
		default:
			kinds[fmt.Sprintf("%T", op)]++
		}
	}
	return kinds
}

// TestTrainingGraphOps lists what a device executor must implement: every
// op type of a compiled training graph, per architecture and masking (see
// device.go).
func TestTrainingGraphOps(t *testing.T) {
	shared := []string{"input", "Linear", "Linearᵀ", "LayerNorm", "LayerNormᵀ", "Residual", "Residualᵀ",
		"Sequence", "Sequenceᵀ", "MaskedMSE", "MaskedMSEᵀ", "pick",
		"gorgonia.elemBinOp", "gorgonia.sumOp", "gorgonia.constantScalar", "gorgonia.sizeOp",
		"*gorgonia.repeatOp", "gorgonia.reshapeOp"}
	crate := append([]string{"MSSA", "MSSAᵀ", "ISTA", "ISTAᵀ"}, shared...)
	vit := append([]string{"SelfAttention", "SelfAttentionᵀ", "GELU", "GELUᵀ"}, shared...)
	tests := []struct {
		c    Config
		want []string
	}{
		{tiny(ArchCRATE, MaskingReleased), crate},
		{tiny(ArchCRATE, MaskingVisible), crate},
		{tiny(ArchViT, MaskingReleased), vit},
		{tiny(ArchViT, MaskingVisible), vit},
	}
	for _, tt := range tests {
		m, _ := New(tt.c, 1)
		gr, err := m.NewGraph(2, 0.75, true)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for k := range opKinds(gr) {
			got = append(got, k)
		}
		sort.Strings(got)
		want := slices.Clone(tt.want)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s %s: op kinds %v, want %v", tt.c.Arch, tt.c.Masking, got, want)
		}
	}
}

// The walker over the CPU and over the test device computes what the tape
// machine computes, bit for bit, over a few steps of gradient descent;
// every node goes through the device; per step only the batch goes in and
// the loss comes out.
func TestWalkerMatchesTapeMachine(t *testing.T) {
	configs := []Config{tiny(ArchCRATE, MaskingReleased), tiny(ArchCRATE, MaskingVisible), tiny(ArchViT, MaskingReleased), tiny(ArchViT, MaskingVisible)}
	for _, c := range configs {
		c.NormPixLoss = c.Masking == MaskingVisible
		for _, device := range []string{"cpu", "test"} {
			t.Run(fmt.Sprintf("%s %s %s", c.Arch, c.Masking, device), func(t *testing.T) {
				checkWalker(t, c, device)
			})
		}
	}
}

func checkWalker(t *testing.T, c Config, device string) {
	const batch, steps, lr = 3, 3, 0.05
	var ms [2]*Model
	var ex [2]Executor
	var dev *testDevice
	for i := range ms {
		ms[i], _ = New(c, 4)
		gr, err := ms[i].NewGraph(batch, 0.5, true)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case i == 0:
			ex[i], err = gr.Executor(CPU{})
		case device == "cpu":
			ex[i], err = newWalker(gr, CPU{})
		default:
			dev = newTestDevice()
			ex[i], err = gr.Executor(dev)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	gr := ex[1].(*walker).gr
	kinds := opKinds(gr)
	checkPasses(t, ex[1].(*walker))
	for s := 0; s < steps; s++ {
		images, noise := randomBatch(c, batch, uint64(s))
		var losses [2]float32
		for i := range ex {
			if dev != nil && i == 1 {
				dev.up, dev.down, dev.calls = 0, 0, map[string]int{}
			}
			var err error
			if losses[i], err = ex[i].Step(images, noise); err != nil {
				t.Fatal(err)
			}
		}
		if math.Float32bits(losses[0]) != math.Float32bits(losses[1]) {
			t.Fatalf("step %d: loss %v on the tape machine, %v on the walker", s, losses[0], losses[1])
		}
		if dev != nil {
			checkTraffic(t, gr, dev, kinds)
		}
		for j, p := range ms[0].Params {
			var g [2][]float32
			for i := range ex {
				var err error
				if g[i], err = ex[i].Grad(ms[i].Params[j]); err != nil {
					t.Fatal(err)
				}
			}
			if (g[0] == nil) != (g[1] == nil) {
				t.Fatalf("step %d: %s has a gradient on one executor only", s, p.Name)
			}
			for k := range g[0] {
				if math.Float32bits(g[0][k]) != math.Float32bits(g[1][k]) {
					t.Fatalf("step %d: gradient of %s [%d]: %v on the tape machine, %v on the walker", s, p.Name, k, g[0][k], g[1][k])
				}
			}
			for i := range ms {
				for k, v := range g[i] {
					ms[i].Params[j].Value[k] -= lr * v
				}
			}
		}
		if err := ex[1].LoadParams(); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range ex {
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if dev != nil && dev.allocated != 0 {
		t.Errorf("%d buffers left on the device after Close", dev.allocated)
	}
}

// checkTraffic checks one Step on the test device: the graph's inputs went
// in, the loss came out, and every computing node was one device call.
func checkTraffic(t *testing.T, gr *Graph, dev *testDevice, kinds map[string]int) {
	t.Helper()
	in := 0
	for _, n := range []*G.Node{gr.patches, gr.target, gr.mask, gr.encLayout, gr.decLayout} {
		if n != nil {
			in += 4 * n.Shape().TotalSize()
		}
	}
	if dev.up != in || dev.down != 4 {
		t.Errorf("per step %d bytes in and %d out, want the batch's %d in and the loss's 4 out", dev.up, dev.down, in)
	}
	want := map[string]int{"Add": kinds["gorgonia.elemBinOp"], "Sum": kinds["gorgonia.sumOp"], "Broadcast": kinds["*gorgonia.repeatOp"]}
	for k, n := range kinds {
		if _, gorgonia := want[k]; !gorgonia && k != "input" && k != "pick" && !strings.Contains(k, "gorgonia.") {
			want[k] = n
		}
	}
	if !maps.Equal(dev.calls, want) {
		t.Errorf("device calls per step %v, want one per node %v", dev.calls, want)
	}
}

// checkPasses checks the walker's split: the blocks' forward nodes up to the
// loss, then the backward nodes and gorgonia's gradient sums.
func checkPasses(t *testing.T, w *walker) {
	t.Helper()
	for _, c := range w.forward {
		switch c.node.Op().(type) {
		case *kernelGradOp:
			t.Errorf("a backward node in the forward pass: %s", c.node.Name())
		case *kernelOp:
		default:
			if c.node != w.gr.loss {
				t.Errorf("gorgonia's %s in the forward pass", c.node.Name())
			}
		}
	}
	if last := w.forward[len(w.forward)-1].node; last != w.gr.loss {
		t.Errorf("the forward pass ends at %s, not the loss", last.Name())
	}
	for _, c := range w.backward {
		if _, ok := c.node.Op().(*kernelOp); ok {
			t.Errorf("a forward node in the backward pass: %s", c.node.Name())
		}
	}
}

// An executor refuses the graphs it cannot step.
func TestExecutorRefusesEncoderGraphs(t *testing.T) {
	m, _ := New(tiny(ArchCRATE, MaskingReleased), 1)
	enc, err := m.NewEncoder(2)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []Device{CPU{}, newTestDevice()} {
		if _, err := enc.Executor(d); err == nil || !strings.Contains(err.Error(), "encoder graph") {
			t.Errorf("%s: error %v, want one naming the encoder graph", d.Name(), err)
		}
	}
}
