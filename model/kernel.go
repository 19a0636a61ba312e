package model

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A kernel is one block of the model computed by hand on float32 slices,
// with its gradient derived by hand. Gorgonia sees each kernel as one node of
// the graph (kernelOp) and differentiates through it with the kernel's own
// backward pass (kernelGradOp), so the graph stays small and every hot loop
// is ours. Every kernel has a finite-difference gradient test.
type kernel interface {
	// name identifies the kernel in graph dumps and errors.
	name() string
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
func apply(k kernel, inputs ...*G.Node) (*G.Node, error) {
	shapes := make([]tensor.Shape, len(inputs))
	for i, n := range inputs {
		shapes[i] = n.Shape()
	}
	outShape, err := k.outShape(shapes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.name(), err)
	}
	op := &kernelOp{opBase: opBase{opIDs.Add(1), k.name()}, k: k, inShapes: shapes, shape: outShape}
	n, err := G.ApplyOp(op, inputs...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.name(), err)
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
	k        kernel
	inShapes []tensor.Shape
	shape    tensor.Shape
	out      *tensor.Dense
}

func (op *kernelOp) Arity() int                                     { return len(op.inShapes) }
func (op *kernelOp) Type() hm.Type                                  { return fnType(op.inShapes, op.shape) }
func (op *kernelOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op *kernelOp) DiffWRT(int) []bool                             { return op.k.diff() }

func (op *kernelOp) Do(vs ...G.Value) (G.Value, error) {
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
		return nil, fmt.Errorf("%s: no input is differentiable", op.k.name())
	}
	gop := &kernelGradOp{
		opBase: opBase{opIDs.Add(1), op.k.name() + "ᵀ"},
		fwd:    op, first: first, dins: make([]*tensor.Dense, len(inputs)),
	}
	args := append(append(G.Nodes{}, inputs...), output, grad)
	gnode, err := G.ApplyOp(gop, args...)
	if err != nil {
		return nil, fmt.Errorf("%s gradient: %w", op.k.name(), err)
	}
	grads := make(G.Nodes, len(inputs))
	grads[first] = gnode
	for i := first + 1; i < len(inputs); i++ {
		if !diff[i] {
			continue
		}
		pick := &gradPickOp{opBase: opBase{opIDs.Add(1), fmt.Sprintf("%s[%d]", gop.label, i)}, src: gop, input: i}
		if grads[i], err = G.ApplyOp(pick, gnode); err != nil {
			return nil, fmt.Errorf("%s gradient %d: %w", op.k.name(), i, err)
		}
	}
	return grads, nil
}

// kernelGradOp runs a kernel's backward pass. Its inputs are the kernel's
// inputs, its output and the output's gradient; its value is the gradient of
// the first differentiable input, and it keeps the others for gradPickOp.
type kernelGradOp struct {
	opBase
	fwd   *kernelOp
	first int
	dins  []*tensor.Dense
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
	n := len(op.fwd.inShapes)
	diff := op.fwd.k.diff()
	din := make([][]float32, n)
	for i := range din {
		if diff[i] {
			din[i] = floats(buffer(&op.dins[i], op.fwd.inShapes[i]))
		}
	}
	op.fwd.k.backward(din, floatsOf(vs[:n]), floats(vs[n]), floats(vs[n+1]))
	return op.dins[op.first], nil
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
