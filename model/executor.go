package model

import (
	"fmt"

	"gonum.org/v1/gonum/graph"
	G "gorgonia.org/gorgonia"
)

// Executor runs a compiled masked-autoencoder Graph on one device.
type Executor interface {
	// Step computes one batch, images [batch, C, H, W] and masking noise
	// [batch, L] as Run takes them: the forward pass and, for a training
	// graph, the backward pass. It returns the loss.
	Step(images, noise []float32) (float32, error)
	// Grad returns the gradient of the loss with respect to p after a
	// training Step, in p's layout, or nil where the pass does not depend
	// on p. The slice may be the executor's own, valid until the next Step.
	Grad(p *Param) ([]float32, error)
	// LoadParams makes the next Step read the model's current parameter
	// values, after the optimizer changed them on the host.
	LoadParams() error
	// Close gives back the executor's device memory.
	Close() error
}

// Executor returns an executor of the graph on d: gorgonia's tape machine
// for the CPU, which Run uses too; for any other device a walker that
// computes every node through d (see device.go). The walker uploads the
// parameters once, here.
func (gr *Graph) Executor(d Device) (Executor, error) {
	if gr.encoderOnly {
		return nil, fmt.Errorf("an executor of an encoder graph: it runs masked-autoencoder graphs only")
	}
	if _, ok := d.(CPU); ok {
		return tapeExecutor{gr}, nil
	}
	return newWalker(gr, d)
}

// tapeExecutor is the CPU's executor: the graph's own tape machine on the
// parameters' host slices, which the optimizer updates in place.
type tapeExecutor struct{ gr *Graph }

// Step runs the batch on the tape machine.
func (e tapeExecutor) Step(images, noise []float32) (float32, error) {
	if err := e.gr.run(images, noise); err != nil {
		return 0, err
	}
	return e.gr.loss.Value().Data().(float32), nil
}

// Grad returns the graph's own gradient of p, which the optimizer may
// scale in place.
func (e tapeExecutor) Grad(p *Param) ([]float32, error) { return e.gr.Grad(p), nil }

// LoadParams has nothing to do: the graph reads the parameters' host
// values.
func (e tapeExecutor) LoadParams() error { return nil }

// Close has nothing to give back.
func (e tapeExecutor) Close() error { return nil }

// walker is llm.c's executor for a gorgonia graph: the nodes in the order
// the tape machine runs them, the forward pass up to the loss, then the
// backward pass (the blocks in reverse), each node one call into the
// device, on one device buffer per node.
type walker struct {
	gr                *Graph
	dev               Device
	bufs              map[*G.Node]Buffer
	owned             []Buffer                   // what Close frees
	dins              map[*kernelGradOp][]Buffer // a backward node's input gradients
	inputs            []*G.Node                  // uploaded for every batch
	forward, backward []call                     // the computing nodes, in order
	lossIn            []float32                  // the loss, downloaded
}

// call computes one node on the device.
type call struct {
	node *G.Node
	run  func() error
}

// newWalker allocates every node's buffer on d, uploads the parameters and
// the constants, and lists the calls a Step makes.
func newWalker(gr *Graph, d Device) (*walker, error) {
	w := &walker{gr: gr, dev: d, bufs: map[*G.Node]Buffer{}, dins: map[*kernelGradOp][]Buffer{},
		lossIn: make([]float32, 1)}
	sorted, err := G.Sort(gr.g)
	if err != nil {
		return nil, fmt.Errorf("ordering the %s graph: %w", gr.m.Config.Arch, err)
	}
	for i := len(sorted) - 1; i >= 0; i-- { // Sort puts the loss first
		if err := w.add(sorted[i]); err != nil {
			w.Close()
			return nil, fmt.Errorf("%s executor of the %s graph: node %s: %w", d.Name(), gr.m.Config.Arch, sorted[i].Name(), err)
		}
	}
	for _, n := range []*G.Node{gr.patches, gr.target, gr.mask, gr.encLayout, gr.decLayout} {
		if n != nil {
			w.inputs = append(w.inputs, n)
		}
	}
	if err := w.LoadParams(); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// alloc allocates a buffer of the node's size, to free on Close.
func (w *walker) alloc(n int) (Buffer, error) {
	b, err := w.dev.Alloc(n)
	if err == nil {
		w.owned = append(w.owned, b)
	}
	return b, err
}

// operands returns the nodes n is computed from, in order.
func (w *walker) operands(n *G.Node) []*G.Node {
	var out []*G.Node
	for _, c := range graph.NodesOf(w.gr.g.From(n.ID())) {
		out = append(out, c.(*G.Node))
	}
	return out
}

// children returns the buffers of n's operands, in order, which the
// order of the walk has made already.
func (w *walker) children(n *G.Node) ([]Buffer, error) {
	var in []Buffer
	for _, c := range w.operands(n) {
		b, ok := w.bufs[c]
		if !ok {
			return nil, fmt.Errorf("operand %s comes after it", c.Name())
		}
		in = append(in, b)
	}
	return in, nil
}

// add gives node n its buffer and, where it computes, its step.
func (w *walker) add(n *G.Node) error {
	size := max(n.Shape().TotalSize(), 1) // a scalar is one value
	in, err := w.children(n)
	if err != nil {
		return err
	}
	switch op := n.Op().(type) {
	case nil: // an input or a parameter
		b, err := w.alloc(size)
		w.bufs[n] = b
		return err
	case *kernelOp:
		out, err := w.alloc(size)
		w.bufs[n] = out
		w.then(n, func() error { return w.dev.Forward(op.k, out, in) })
		return err
	case *kernelGradOp:
		dins := make([]Buffer, len(op.fwd.inShapes))
		for i, d := range op.fwd.k.diff() {
			if d {
				var err error
				if dins[i], err = w.alloc(op.fwd.inShapes[i].TotalSize()); err != nil {
					return err
				}
			}
		}
		w.dins[op], w.bufs[n] = dins, dins[op.first]
		k := len(op.fwd.inShapes)
		w.then(n, func() error { return w.dev.Backward(op.fwd.k, dins, in[:k], in[k], in[k+1]) })
		return nil
	case *gradPickOp:
		w.bufs[n] = w.dins[op.src][op.input]
		return nil
	}
	return w.addGorgonia(n, size, in)
}

// addGorgonia handles the nodes gorgonia inserts itself. Their op types are
// unexported: they are told by type name and checked by their string.
func (w *walker) addGorgonia(n *G.Node, size int, in []Buffer) error {
	op := n.Op()
	kind := fmt.Sprintf("%T", op)
	if kind == "gorgonia.reshapeOp" { // a view
		w.bufs[n] = in[0]
		return nil
	}
	out, err := w.alloc(size)
	w.bufs[n] = out
	if err != nil {
		return err
	}
	switch {
	case kind == "gorgonia.elemBinOp" && len(in) == 2 && op.String() == "+ false":
		w.then(n, func() error { return w.dev.Add(out, in[0], in[1]) })
	case kind == "gorgonia.sumOp" && size == 1:
		w.then(n, func() error { return w.dev.Sum(out, in[0]) })
	case kind == "*gorgonia.repeatOp":
		w.then(n, func() error { return w.dev.Broadcast(out, in[0]) })
	case kind == "gorgonia.sizeOp" && size == 1:
		return w.dev.Fill(out, float32(w.operands(n)[0].Shape().TotalSize()))
	case kind == "gorgonia.constantScalar":
		v, err := op.Do()
		if err != nil {
			return err
		}
		f, ok := v.Data().(float32)
		if !ok {
			return fmt.Errorf("constant %v is not a float32", v)
		}
		return w.dev.Fill(out, f)
	default:
		return fmt.Errorf("no device operation for gorgonia's %s (%v)", kind, op)
	}
	return nil
}

// then appends node n's computation to the forward pass, or once the loss
// is computed to the backward pass.
func (w *walker) then(n *G.Node, run func() error) {
	if len(w.forward) > 0 && w.forward[len(w.forward)-1].node == w.gr.loss {
		w.backward = append(w.backward, call{n, run})
		return
	}
	w.forward = append(w.forward, call{n, run})
}

// Step feeds the batch as Run does, uploads the graph's inputs, runs the
// forward pass and the backward pass and downloads the loss.
func (w *walker) Step(images, noise []float32) (float32, error) {
	if err := w.gr.feed(images, noise); err != nil {
		return 0, err
	}
	for _, n := range w.inputs {
		if err := w.dev.Upload(w.bufs[n], floats(n.Value())); err != nil {
			return 0, fmt.Errorf("uploading %s: %w", n.Name(), err)
		}
	}
	if err := w.run(w.forward); err != nil {
		return 0, err
	}
	if err := w.run(w.backward); err != nil {
		return 0, err
	}
	if err := w.dev.Download(w.lossIn, w.bufs[w.gr.loss]); err != nil {
		return 0, fmt.Errorf("downloading the loss: %w", err)
	}
	return w.lossIn[0], nil
}

// run makes the calls in order.
func (w *walker) run(calls []call) error {
	for _, c := range calls {
		if err := c.run(); err != nil {
			return fmt.Errorf("%s: node %s: %w", w.dev.Name(), c.node.Name(), err)
		}
	}
	return nil
}

// Grad downloads p's gradient.
func (w *walker) Grad(p *Param) ([]float32, error) {
	n := w.gr.grads[p]
	if n == nil {
		return nil, nil
	}
	g := make([]float32, len(p.Value))
	if err := w.dev.Download(g, w.bufs[n]); err != nil {
		return nil, fmt.Errorf("downloading the gradient of %s: %w", p.Name, err)
	}
	return g, nil
}

// LoadParams uploads every parameter's values.
func (w *walker) LoadParams() error {
	for p, n := range w.gr.nodes {
		if err := w.dev.Upload(w.bufs[n], p.Value); err != nil {
			return fmt.Errorf("uploading %s: %w", p.Name, err)
		}
	}
	return nil
}

// Close frees every buffer the walker allocated.
func (w *walker) Close() error {
	var first error
	for _, b := range w.owned {
		if err := w.dev.Free(b); err != nil && first == nil {
			first = err
		}
	}
	w.owned = nil
	return first
}
