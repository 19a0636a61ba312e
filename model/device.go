package model

import "fmt"

// The device seam. A compiled Graph is gorgonia's: the model's blocks as
// kernel nodes (one Kernel each, its formula above its type), the backward
// nodes gorgonia's autodiff asked the kernels for, and the few nodes of its
// own that gorgonia inserts. An Executor runs that graph on one Device:
//
//   - on the CPU, gorgonia's tape machine, which calls each kernel's loops
//     on host slices, the products through OpenBLAS (Graph.Run);
//   - on any other device, a walker (Graph.Executor) that visits the same
//     nodes in gorgonia's order, the forward pass then the backward pass in
//     reverse, and computes each with one call into the Device, on buffers
//     that live in the device's memory.
//
// What a Device must implement to run a training graph of either
// architecture, node by node (TestTrainingGraphOps asserts the list):
//
//   - Forward and Backward of every Kernel type: Linear, LayerNorm, GELU
//     (ViT), ISTA (CRATE), *Attention (MSSA for CRATE, SelfAttention for
//     ViT), Residual, Sequence and MaskedMSE. A backward node computes the
//     gradients of all of a kernel's differentiable inputs at once; the
//     pick nodes that hand on the second and later ones are the walker's
//     business, not the device's. Attention's backward reads the attention
//     maps its forward computed: the device keeps them between the two
//     calls, per kernel (the CPU keeps them in the *Attention).
//   - Add (gorgonia's elemBinOp +), which sums the gradients of a value
//     with several consumers: the residual stream, and the parameters and
//     activations read twice.
//   - Sum (sumOp), the loss's reduction to a scalar, and for its gradient
//     Fill (the constant 1 that seeds the backward pass, and sizeOp's
//     static size) and Broadcast (repeatOp); reshapeOp is a view, which the
//     walker resolves to its input's buffer.
//
// Per batch the walker uploads the graph's inputs only (the patches, the
// loss targets, randomMasking's mask and layouts) and downloads the loss;
// the parameters stay on the device between steps, uploaded once, and
// again only through LoadParams.
//
// Not yet behind the seam: AdamW and gradient clipping run on the host
// (training/optim.go), so a training step on a device also downloads the
// gradients and uploads the parameters; moving them means Device
// operations for the update and the global norm, and AdamW's moments in
// device buffers that checkpoints download. The walker gives every node a
// buffer of its own, where the tape machine recycles the gradients it has
// read, and evaluation (Graph.Encode, Graph.Layers) runs on the tape
// machine only.

// Buffer is the memory of one tensor on a Device, Len float32s: a host
// slice for the CPU (Host), a handle to memory that only its device reads
// for any other.
type Buffer interface {
	Len() int
}

// Host is a Buffer in host memory, the CPU's.
type Host []float32

// Len is the number of float32s.
func (h Host) Len() int { return len(h) }

// Device owns buffers and computes a graph's nodes on them. Its methods
// return an error that names the device and the operation; the buffers
// passed to one call are the device's own, of the lengths the graph's
// shapes give (a kernel's inputs in the order its type documents, din[i]
// nil where the input receives no gradient).
type Device interface {
	// Name names the device in errors, as "cpu" or "cuda:0".
	Name() string
	// Alloc returns a buffer of n float32s, zeroed; Free gives it back.
	Alloc(n int) (Buffer, error)
	Free(b Buffer) error
	// Upload copies host values into dst; Download copies src into host
	// memory. They are the only ways between host and device memory.
	Upload(dst Buffer, src []float32) error
	Download(dst []float32, src Buffer) error
	// Forward writes kernel k's output computed from its inputs.
	Forward(k Kernel, out Buffer, in []Buffer) error
	// Backward writes the gradients of k's differentiable inputs, given its
	// inputs, its output and the output's gradient.
	Backward(k Kernel, din, in []Buffer, out, dout Buffer) error
	// Add: dst = a + b, elementwise.
	Add(dst, a, b Buffer) error
	// Sum: dst[0] = Σ src.
	Sum(dst, src Buffer) error
	// Fill: dst[i] = v for every i.
	Fill(dst Buffer, v float32) error
	// Broadcast: dst[i] = src[0] for every i.
	Broadcast(dst, src Buffer) error
}

// CPU is the host's Device: each call runs the kernel's own loops and
// OpenBLAS products on Host buffers, with no copy. The tape machine of
// Graph.Run calls the same loops directly; the walker over CPU is the
// reference a device's results are compared with.
type CPU struct{}

// host returns the slice of a CPU buffer; nil for nil.
func host(b Buffer) []float32 {
	if b == nil {
		return nil
	}
	return b.(Host)
}

func hosts(bs []Buffer) [][]float32 {
	out := make([][]float32, len(bs))
	for i, b := range bs {
		out[i] = host(b)
	}
	return out
}

// Name is "cpu".
func (CPU) Name() string { return "cpu" }

// Alloc makes a host slice.
func (CPU) Alloc(n int) (Buffer, error) { return Host(make([]float32, n)), nil }

// Free leaves the slice to the garbage collector.
func (CPU) Free(Buffer) error { return nil }

// Upload copies src into dst.
func (CPU) Upload(dst Buffer, src []float32) error { return copyChecked("upload", host(dst), src) }

// Download copies src into dst.
func (CPU) Download(dst []float32, src Buffer) error {
	return copyChecked("download", dst, host(src))
}

func copyChecked(op string, dst, src []float32) error {
	if len(dst) != len(src) {
		return fmt.Errorf("cpu: %s of %d values into a buffer of %d", op, len(src), len(dst))
	}
	copy(dst, src)
	return nil
}

// Forward runs the kernel's forward loops.
func (CPU) Forward(k Kernel, out Buffer, in []Buffer) error {
	k.forward(host(out), hosts(in))
	return nil
}

// Backward runs the kernel's backward loops.
func (CPU) Backward(k Kernel, din, in []Buffer, out, dout Buffer) error {
	k.backward(hosts(din), hosts(in), host(out), host(dout))
	return nil
}

// Add adds elementwise.
func (CPU) Add(dst, a, b Buffer) error {
	d, x, y := host(dst), host(a), host(b)
	for i := range d {
		d[i] = x[i] + y[i]
	}
	return nil
}

// Sum adds up src in order.
func (CPU) Sum(dst, src Buffer) error {
	var s float32
	for _, v := range host(src) {
		s += v
	}
	host(dst)[0] = s
	return nil
}

// Fill sets every value to v.
func (CPU) Fill(dst Buffer, v float32) error {
	d := host(dst)
	for i := range d {
		d[i] = v
	}
	return nil
}

// Broadcast sets every value to src[0].
func (CPU) Broadcast(dst, src Buffer) error { return CPU{}.Fill(dst, host(src)[0]) }
