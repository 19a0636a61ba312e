package model

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A Kernel is one block of the model computed by hand on float32 slices,
// with its gradient derived by hand. Gorgonia sees each kernel as one node of
// the graph (kernelOp) and differentiates through it with the kernel's own
// backward pass (kernelGradOp), so the graph stays small and every hot loop
// is ours. Every kernel has a finite-difference gradient test.
//
// The kernel types (Linear, LayerNorm, ...) are exported with their
// dimensions, so that a Device in another package can tell them apart and
// compute them its own way; their methods here are the CPU's loops, which
// only this package implements.
type Kernel interface {
	// Name identifies the kernel in graph dumps and errors.
	Name() string
	// outShape gives the output shape for the given input shapes.
	outShape(in []tensor.Shape) (tensor.Shape, error)
	// diff tells, for each input, whether it receives a gradient.
	diff() []bool
	// forward writes the output computed from the inputs.
	forward(out []float32, in [][]float32)
	// backward writes into din[i] (nil where diff()[i] is false) the
	// gradient of input i, given the inputs, the output and its gradient.
	backward(din [][]float32, in [][]float32, out, dout []float32)
}

var opIDs atomic.Int64

// apply adds kernel k to the graph as a node computed from the inputs.
func apply(k Kernel, inputs ...*G.Node) (*G.Node, error) {
	shapes := make([]tensor.Shape, len(inputs))
	for i, n := range inputs {
		shapes[i] = n.Shape()
	}
	outShape, err := k.outShape(shapes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.Name(), err)
	}
	op := &kernelOp{opBase: opBase{opIDs.Add(1), k.Name()}, k: k, inShapes: shapes, shape: outShape}
	n, err := G.ApplyOp(op, inputs...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.Name(), err)
	}
	return n, nil
}

// tensorType is gorgonia's type of a float32 tensor of the given shape.
func tensorType(s tensor.Shape) hm.Type {
	if s.IsScalar() {
		return tensor.Float32
	}
	return G.TensorType{Dims: s.Dims(), Of: tensor.Float32}
}

func fnType(in []tensor.Shape, out tensor.Shape) hm.Type {
	ts := make([]hm.Type, 0, len(in)+1)
	for _, s := range in {
		ts = append(ts, tensorType(s))
	}
	return hm.NewFnType(append(ts, tensorType(out))...)
}

// floats returns the float32 backing slice of a gorgonia value.
func floats(v G.Value) []float32 {
	return v.Data().([]float32)
}

func floatsOf(vs []G.Value) [][]float32 {
	out := make([][]float32, len(vs))
	for i, v := range vs {
		out[i] = floats(v)
	}
	return out
}

// buffer returns t, allocated on first use with the given shape. Kernels own
// their output buffers and reuse them from step to step.
func buffer(t **tensor.Dense, s tensor.Shape) *tensor.Dense {
	if *t == nil {
		*t = tensor.New(tensor.WithShape(s.Clone()...), tensor.Of(tensor.Float32))
	}
	return *t
}

// opBase gives the three ops below the methods of gorgonia.Op that do not
// depend on the kernel: each node is unique (its id), returns a fresh view of
// a buffer it owns and overwrites none of its inputs.
type opBase struct {
	id    int64
	label string
}

func (o opBase) ReturnsPtr() bool      { return false }
func (o opBase) CallsExtern() bool     { return false }
func (o opBase) OverwritesInput() int  { return -1 }
func (o opBase) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s#%d", o.label, o.id) }
func (o opBase) String() string        { return o.label }
func (o opBase) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// kernelOp is the forward node of a kernel.
type kernelOp struct {
	opBase
	k        Kernel
	inShapes []tensor.Shape
	shape    tensor.Shape
	out      *tensor.Dense
}

func (op *kernelOp) Arity() int                                     { return len(op.inShapes) }
func (op *kernelOp) Type() hm.Type                                  { return fnType(op.inShapes, op.shape) }
func (op *kernelOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op *kernelOp) DiffWRT(int) []bool                             { return op.k.diff() }

func (op *kernelOp) Do(vs ...G.Value) (G.Value, error) {
	defer kernelTimes.time(op.k.Name())()
	out := buffer(&op.out, op.shape)
	op.k.forward(floats(out), floatsOf(vs))
	return out, nil
}

// SymDiff adds one backward node, which computes every input gradient at
// once, and a pick node for each further input that receives a gradient.
func (op *kernelOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	diff := op.k.diff()
	first := -1
	for i := len(diff) - 1; i >= 0; i-- {
		if diff[i] {
			first = i
		}
	}
	if first < 0 {
		return nil, fmt.Errorf("%s: no input is differentiable", op.k.Name())
	}
	gop := &kernelGradOp{
		opBase: opBase{opIDs.Add(1), op.k.Name() + "ᵀ"},
		fwd:    op, first: first, dins: make([]*tensor.Dense, len(inputs)),
	}
	// a gradient another kernel's backward pass wrote, this pass alone reads
	switch src := grad.Op().(type) {
	case *kernelGradOp:
		gop.doutSrc, gop.doutInput = src, src.first
	case *gradPickOp:
		gop.doutSrc, gop.doutInput = src.src, src.input
	}
	args := append(append(G.Nodes{}, inputs...), output, grad)
	gnode, err := G.ApplyOp(gop, args...)
	if err != nil {
		return nil, fmt.Errorf("%s gradient: %w", op.k.Name(), err)
	}
	grads := make(G.Nodes, len(inputs))
	grads[first] = gnode
	for i := first + 1; i < len(inputs); i++ {
		if !diff[i] {
			continue
		}
		pick := &gradPickOp{opBase: opBase{opIDs.Add(1), fmt.Sprintf("%s[%d]", gop.label, i)}, src: gop, input: i}
		if grads[i], err = G.ApplyOp(pick, gnode); err != nil {
			return nil, fmt.Errorf("%s gradient %d: %w", op.k.Name(), i, err)
		}
	}
	return grads, nil
}

// kernelGradOp runs a kernel's backward pass. Its inputs are the kernel's
// inputs, its output and the output's gradient; its value is the gradient of
// the first differentiable input, and it keeps the others for gradPickOp.
//
// Where the output's gradient is the input gradient of another kernel's
// backward pass (doutSrc's input doutInput), as along a chain of blocks, this
// pass is its only reader: once done, it hands that buffer back to the
// pool for the passes that follow. A gradient that gorgonia sums (several
// consumers) or returns (a parameter's) keeps its buffer, so the forward
// values and the parameters' gradients stay readable after a step.
type kernelGradOp struct {
	opBase
	fwd       *kernelOp
	first     int
	dins      []*tensor.Dense
	doutSrc   *kernelGradOp
	doutInput int
}

func (op *kernelGradOp) Arity() int { return len(op.fwd.inShapes) + 2 }
func (op *kernelGradOp) Type() hm.Type {
	in := append(append([]tensor.Shape{}, op.fwd.inShapes...), op.fwd.shape, op.fwd.shape)
	return fnType(in, op.fwd.inShapes[op.first])
}
func (op *kernelGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.fwd.inShapes[op.first].Clone(), nil
}

func (op *kernelGradOp) Do(vs ...G.Value) (G.Value, error) {
	defer kernelTimes.time(op.label)()
	n := len(op.fwd.inShapes)
	diff := op.fwd.k.diff()
	din := make([][]float32, n)
	for i := range din {
		if diff[i] {
			if op.dins[i] == nil {
				s := op.fwd.inShapes[i]
				op.dins[i] = tensor.New(tensor.WithShape(s.Clone()...), tensor.WithBacking(takeFloats(s.TotalSize())))
			}
			din[i] = floats(op.dins[i])
		}
	}
	op.fwd.k.backward(din, floatsOf(vs[:n]), floats(vs[n]), floats(vs[n+1]))
	if op.doutSrc != nil {
		op.doutSrc.release(op.doutInput)
	}
	return op.dins[op.first], nil
}

// release hands the buffer of input i's gradient back to the pool; the next
// pass takes another.
func (op *kernelGradOp) release(i int) {
	if op.dins[i] != nil {
		giveFloats(floats(op.dins[i]))
		op.dins[i] = nil
	}
}

// gradPickOp hands on the gradient of one further input of a kernel, which
// its kernelGradOp (the pick node's only input) computed alongside.
type gradPickOp struct {
	opBase
	src   *kernelGradOp
	input int
}

func (op *gradPickOp) Arity() int { return 1 }
func (op *gradPickOp) Type() hm.Type {
	return fnType([]tensor.Shape{op.src.fwd.inShapes[op.src.first]}, op.src.fwd.inShapes[op.input])
}
func (op *gradPickOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.src.fwd.inShapes[op.input].Clone(), nil
}
func (op *gradPickOp) Do(...G.Value) (G.Value, error) { return op.src.dins[op.input], nil }

// floatPools lend float32 buffers by length: the gradients that backward
// passes have read, and kernels' temporaries. Once warm, a step takes them
// from here instead of allocating; the garbage collector may empty a pool.
var floatPools sync.Map // length → *sync.Pool of *[]float32

// takeFloats returns a buffer of n float32s of undefined contents, to give
// back with giveFloats when no longer read.
func takeFloats(n int) []float32 {
	if p, ok := floatPools.Load(n); ok {
		if s, _ := p.(*sync.Pool).Get().(*[]float32); s != nil {
			return *s
		}
	}
	return make([]float32, n)
}

func giveFloats(s []float32) {
	p, _ := floatPools.LoadOrStore(len(s), new(sync.Pool))
	p.(*sync.Pool).Put(&s)
}

// kernelClock adds up the time spent in each kernel's forward (by name) and
// backward (name + "ᵀ") passes, for the benchmarks; kernelTimes is off (nil)
// unless a benchmark turns it on.
type kernelClock struct {
	mu    sync.Mutex
	total map[string]time.Duration
}

var kernelTimes *kernelClock

// time starts timing a pass of the named kernel and returns the function
// that stops it.
func (c *kernelClock) time(name string) func() {
	if c == nil {
		return func() {}
	}
	start := time.Now()
	return func() {
		c.mu.Lock()
		c.total[name] += time.Since(start)
		c.mu.Unlock()
	}
}
