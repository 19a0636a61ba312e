package cuda

/*
#include <stdlib.h>
#include <string.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// A Module is a CUBIN loaded on a device.
type Module struct {
	c *Context
	m C.CUmodule
}

// LoadModule loads a CUBIN (see Runtime.Compile and KernelCache).
func (c *Context) LoadModule(cubin []byte) (*Module, error) {
	if len(cubin) == 0 {
		return nil, fmt.Errorf("load module: empty CUBIN")
	}
	image := C.CBytes(cubin)
	defer C.free(image)
	m := &Module{c: c}
	err := c.do(func(d *driver) error {
		return d.check("cuModuleLoadData", C.h_cuModuleLoadData(d.cuModuleLoadData, &m.m, image))
	})
	return m, err
}

// Close unloads the module.
func (m *Module) Close() error {
	return m.c.do(func(d *driver) error { return d.check("cuModuleUnload", C.h_cuModuleUnload(d.cuModuleUnload, m.m)) })
}

// A Function is a kernel of a module.
type Function struct {
	Name string
	f    C.CUfunction
}

// Function finds the kernel name (declared extern "C").
func (m *Module) Function(name string) (*Function, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	f := &Function{Name: name}
	err := m.c.do(func(d *driver) error {
		return d.check("cuModuleGetFunction", C.h_cuModuleGetFunction(d.cuModuleGetFunction, &f.f, m.m, cname))
	})
	if err != nil {
		return nil, fmt.Errorf("kernel %s: %w", name, err)
	}
	return f, nil
}

// Dim3 is a grid's or a block's size.
type Dim3 struct{ X, Y, Z int }

// Launch queues the kernel f on grid × block threads with shared bytes of
// dynamic shared memory. Each argument is a float32, int32, uint32,
// int64, uint64 or Buffer (passed as its device pointer), in the order of
// the kernel's parameters.
func (s *Stream) Launch(f *Function, grid, block Dim3, shared int, args ...any) error {
	params, free, err := kernelParams(args)
	if err != nil {
		return fmt.Errorf("launch %s: %w", f.Name, err)
	}
	defer free()
	return s.c.do(func(d *driver) error {
		r := C.h_cuLaunchKernel(d.cuLaunchKernel, f.f, dim(grid.X), dim(grid.Y), dim(grid.Z),
			dim(block.X), dim(block.Y), dim(block.Z), C.uint(shared), s.s, params)
		if err := d.check("cuLaunchKernel", r); err != nil {
			return fmt.Errorf("kernel %s: %w", f.Name, err)
		}
		return nil
	})
}

// dim is a Dim3 component, 0 read as 1.
func dim(n int) C.uint { return C.uint(max(n, 1)) }

// kernelParams lays the arguments out in C memory, as cuLaunchKernel wants
// them: an array of pointers, each to one argument's value. cgo forbids
// handing C Go memory that holds Go pointers, hence the copy.
func kernelParams(args []any) (params *unsafe.Pointer, free func(), err error) {
	const slot = 8 // every value fits 8 bytes
	values := C.malloc(C.size_t(slot * max(len(args), 1)))
	ptrs := (*unsafe.Pointer)(C.malloc(C.size_t(unsafe.Sizeof(unsafe.Pointer(nil)) * uintptr(max(len(args), 1)))))
	free = func() { C.free(values); C.free(unsafe.Pointer(ptrs)) }
	vs := unsafe.Slice((*[slot]byte)(values), max(len(args), 1))
	ps := unsafe.Slice(ptrs, max(len(args), 1))
	for i, a := range args {
		v := &vs[i]
		switch a := a.(type) {
		case float32:
			*(*float32)(unsafe.Pointer(v)) = a
		case int32:
			*(*int32)(unsafe.Pointer(v)) = a
		case uint32:
			*(*uint32)(unsafe.Pointer(v)) = a
		case int64:
			*(*int64)(unsafe.Pointer(v)) = a
		case uint64:
			*(*uint64)(unsafe.Pointer(v)) = a
		case Buffer:
			*(*C.CUdeviceptr)(unsafe.Pointer(v)) = a.ptr
		default:
			free()
			return nil, nil, fmt.Errorf("argument %d: unsupported type %T", i, a)
		}
		ps[i] = unsafe.Pointer(v)
	}
	return ptrs, free, nil
}

// captureRelaxed is CU_STREAM_CAPTURE_MODE_RELAXED: other threads may go
// on calling the driver while a stream is captured.
const captureRelaxed = 2

// BeginCapture starts recording the stream's work into a graph instead of
// running it.
func (s *Stream) BeginCapture() error {
	return s.c.do(func(d *driver) error {
		return d.check("cuStreamBeginCapture", C.h_cuStreamBeginCapture(d.cuStreamBeginCapture, s.s, captureRelaxed))
	})
}

// A Graph is an instantiated CUDA graph: work captured once, launched as a
// whole many times.
type Graph struct {
	c    *Context
	g    C.CUgraph
	exec C.CUgraphExec
}

// EndCapture stops recording and instantiates the graph recorded.
func (s *Stream) EndCapture() (*Graph, error) {
	g := &Graph{c: s.c}
	err := s.c.do(func(d *driver) error {
		if err := d.check("cuStreamEndCapture", C.h_cuStreamEndCapture(d.cuStreamEndCapture, s.s, &g.g)); err != nil {
			return err
		}
		return d.check("cuGraphInstantiateWithFlags", C.h_cuGraphInstantiate(d.cuGraphInstantiate, &g.exec, g.g, 0))
	})
	return g, err
}

// Launch queues the graph's work on the stream.
func (g *Graph) Launch(s *Stream) error {
	return s.c.do(func(d *driver) error {
		return d.check("cuGraphLaunch", C.h_cuGraphLaunch(d.cuGraphLaunch, g.exec, s.s))
	})
}

// Close destroys the graph.
func (g *Graph) Close() error {
	return g.c.do(func(d *driver) error {
		if err := d.check("cuGraphExecDestroy", C.h_cuGraphExecDestroy(d.cuGraphExecDestroy, g.exec)); err != nil {
			return err
		}
		return d.check("cuGraphDestroy", C.h_cuGraphDestroy(d.cuGraphDestroy, g.g))
	})
}
