package cuda

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"strings"
	"unsafe"
)

// Device attributes read with cuDeviceGetAttribute.
const (
	attrComputeCapabilityMajor = 75
	attrComputeCapabilityMinor = 76
)

// A DeviceInfo describes one GPU the driver sees (after
// CUDA_VISIBLE_DEVICES).
type DeviceInfo struct {
	Ordinal      int    // the driver's ordinal, 0-based
	Name         string // e.g. "NVIDIA H200"
	UUID         string // as NVML writes it, "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
	TotalMemory  uint64 // bytes
	FreeMemory   uint64 // bytes free when enumerated
	Major, Minor int    // compute capability
}

// Arch is the device's architecture as NVRTC names it, e.g. "sm_90".
func (d DeviceInfo) Arch() string { return fmt.Sprintf("sm_%d%d", d.Major, d.Minor) }

// Devices enumerates the GPUs. Reading their free memory retains each one's
// primary context for a moment.
func (r *Runtime) Devices() ([]DeviceInfo, error) {
	d := r.d
	var n C.int
	if err := d.check("cuDeviceGetCount", C.h_cuDeviceGetCount(d.cuDeviceGetCount, &n)); err != nil {
		return nil, err
	}
	devs := make([]DeviceInfo, n)
	for i := range devs {
		c, err := r.NewContext(i)
		if err != nil {
			return nil, err
		}
		devs[i] = c.Device
		if err := c.Close(); err != nil {
			return nil, fmt.Errorf("device %d: %w", i, err)
		}
	}
	return devs, nil
}

// describe describes dev, of ordinal i, but for its free memory.
func (r *Runtime) describe(i int, dev C.CUdevice) (DeviceInfo, error) {
	d := r.d
	info := DeviceInfo{Ordinal: i}
	var name [256]C.char
	if err := d.check("cuDeviceGetName", C.h_cuDeviceGetName(d.cuDeviceGetName, &name[0], C.int(len(name)), dev)); err != nil {
		return info, err
	}
	info.Name = C.GoString(&name[0])
	var uuid [16]byte
	if err := d.check("cuDeviceGetUuid", C.h_cuDeviceGetUuid(d.cuDeviceGetUuid, (*C.char)(unsafe.Pointer(&uuid[0])), dev)); err != nil {
		return info, err
	}
	info.UUID = formatUUID(uuid)
	var major, minor C.int
	if err := d.check("cuDeviceGetAttribute", C.h_cuDeviceGetAttribute(d.cuDeviceGetAttribute, &major, attrComputeCapabilityMajor, dev)); err != nil {
		return info, err
	}
	if err := d.check("cuDeviceGetAttribute", C.h_cuDeviceGetAttribute(d.cuDeviceGetAttribute, &minor, attrComputeCapabilityMinor, dev)); err != nil {
		return info, err
	}
	info.Major, info.Minor = int(major), int(minor)
	var total C.size_t
	if err := d.check("cuDeviceTotalMem", C.h_cuDeviceTotalMem(d.cuDeviceTotalMem, &total, dev)); err != nil {
		return info, err
	}
	info.TotalMemory = uint64(total)
	return info, nil
}

// formatUUID writes a device UUID as NVML does.
func formatUUID(u [16]byte) string {
	h := fmt.Sprintf("%x", u[:])
	return "GPU-" + strings.Join([]string{h[0:8], h[8:12], h[12:16], h[16:20], h[20:32]}, "-")
}

// A Context is a device's primary context. The driver keeps the current
// context per OS thread, so each call through a Context makes it current
// on its goroutine's thread, locked for the call.
type Context struct {
	Device DeviceInfo
	r      *Runtime
	dev    C.CUdevice
	ctx    C.CUcontext
}

// NewContext retains the primary context of the device of ordinal i,
// and describes the device, its free memory included.
func (r *Runtime) NewContext(i int) (*Context, error) {
	c, err := r.newContext(i)
	if err != nil {
		return nil, fmt.Errorf("device %d: %w", i, err)
	}
	return c, nil
}

func (r *Runtime) newContext(i int) (*Context, error) {
	c := &Context{r: r}
	if err := r.d.check("cuDeviceGet", C.h_cuDeviceGet(r.d.cuDeviceGet, &c.dev, C.int(i))); err != nil {
		return nil, err
	}
	info, err := r.describe(i, c.dev)
	if err != nil {
		return nil, err
	}
	if err := r.d.check("cuDevicePrimaryCtxRetain", C.h_cuDevicePrimaryCtxRetain(r.d.cuDevicePrimaryCtxRetain, &c.ctx, c.dev)); err != nil {
		return nil, err
	}
	c.Device = info
	if c.Device.FreeMemory, _, err = c.MemInfo(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close releases the primary context.
func (c *Context) Close() error {
	return c.r.d.check("cuDevicePrimaryCtxRelease", C.h_cuDevicePrimaryCtxRelease(c.r.d.cuDevicePrimaryCtxRelease, c.dev))
}

// do runs f with the context current on a locked OS thread.
func (c *Context) do(f func(d *driver) error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := c.r.d.check("cuCtxSetCurrent", C.h_cuCtxSetCurrent(c.r.d.cuCtxSetCurrent, c.ctx)); err != nil {
		return err
	}
	return f(c.r.d)
}

// MemInfo returns the device's free and total memory in bytes.
func (c *Context) MemInfo() (free, total uint64, err error) {
	err = c.do(func(d *driver) error {
		var f, t C.size_t
		err := d.check("cuMemGetInfo", C.h_cuMemGetInfo(d.cuMemGetInfo, &f, &t))
		free, total = uint64(f), uint64(t)
		return err
	})
	return free, total, err
}

// A Buffer is device memory.
type Buffer struct {
	ptr   C.CUdeviceptr
	Bytes int
}

// An OutOfMemoryError says an allocation did not fit.
type OutOfMemoryError struct {
	Need, Free uint64 // bytes
	Err        error
}

func (e *OutOfMemoryError) Error() string {
	return fmt.Sprintf("out of GPU memory: needed %.1f MiB, %.1f MiB free: %v", float64(e.Need)/(1<<20), float64(e.Free)/(1<<20), e.Err)
}

func (e *OutOfMemoryError) Unwrap() error { return e.Err }

// Alloc allocates bytes of device memory. Running out of it is an
// *OutOfMemoryError saying how much was free.
func (c *Context) Alloc(bytes int) (Buffer, error) {
	b := Buffer{Bytes: bytes}
	err := c.do(func(d *driver) error {
		return d.check("cuMemAlloc", C.h_cuMemAlloc(d.cuMemAlloc, &b.ptr, C.size_t(bytes)))
	})
	if e, ok := err.(*Error); ok && e.Code == ErrOutOfMemory {
		free, _, _ := c.MemInfo()
		return b, &OutOfMemoryError{Need: uint64(bytes), Free: free, Err: err}
	}
	return b, err
}

// Free frees device memory.
func (c *Context) Free(b Buffer) error {
	return c.do(func(d *driver) error { return d.check("cuMemFree", C.h_cuMemFree(d.cuMemFree, b.ptr)) })
}

// WriteFloat32 copies src to the start of dst and waits for the copy. It
// does not wait for work queued on a Stream (streams are non-blocking):
// Sync the stream first.
func (c *Context) WriteFloat32(dst Buffer, src []float32) error {
	if err := fits(dst, 4*len(src)); err != nil || len(src) == 0 {
		return err
	}
	return c.do(func(d *driver) error {
		return d.check("cuMemcpyHtoD", C.h_cuMemcpyHtoD(d.cuMemcpyHtoD, dst.ptr, unsafe.Pointer(&src[0]), C.size_t(4*len(src))))
	})
}

// ReadFloat32 copies the start of src to dst and waits for the copy. It
// does not wait for work queued on a Stream: Sync the stream first.
func (c *Context) ReadFloat32(dst []float32, src Buffer) error {
	if err := fits(src, 4*len(dst)); err != nil || len(dst) == 0 {
		return err
	}
	return c.do(func(d *driver) error {
		return d.check("cuMemcpyDtoH", C.h_cuMemcpyDtoH(d.cuMemcpyDtoH, unsafe.Pointer(&dst[0]), src.ptr, C.size_t(4*len(dst))))
	})
}

// fits refuses a copy of n bytes that overflows b.
func fits(b Buffer, n int) error {
	if n > b.Bytes {
		return fmt.Errorf("copy of %d bytes overflows a buffer of %d", n, b.Bytes)
	}
	return nil
}

// A HostBuffer is pinned (page-locked) host memory, which asynchronous
// copies need.
type HostBuffer struct {
	p     unsafe.Pointer
	Bytes int
}

// Float32s is the pinned memory as float32s.
func (h HostBuffer) Float32s() []float32 { return unsafe.Slice((*float32)(h.p), h.Bytes/4) }

// AllocHost allocates bytes of pinned host memory.
func (c *Context) AllocHost(bytes int) (HostBuffer, error) {
	h := HostBuffer{Bytes: bytes}
	err := c.do(func(d *driver) error {
		return d.check("cuMemHostAlloc", C.h_cuMemHostAlloc(d.cuMemHostAlloc, &h.p, C.size_t(bytes), 0))
	})
	return h, err
}

// FreeHost frees pinned host memory.
func (c *Context) FreeHost(h HostBuffer) error {
	return c.do(func(d *driver) error { return d.check("cuMemFreeHost", C.h_cuMemFreeHost(d.cuMemFreeHost, h.p)) })
}

// A Stream is a queue of work on the device.
type Stream struct {
	c *Context
	s C.CUstream
}

// streamNonBlocking is CU_STREAM_NON_BLOCKING: no implicit
// synchronisation with the legacy default stream.
const streamNonBlocking = 1

// NewStream creates a non-blocking stream.
func (c *Context) NewStream() (*Stream, error) {
	s := &Stream{c: c}
	err := c.do(func(d *driver) error {
		return d.check("cuStreamCreate", C.h_cuStreamCreate(d.cuStreamCreate, &s.s, streamNonBlocking))
	})
	return s, err
}

// Close destroys the stream.
func (s *Stream) Close() error {
	return s.c.do(func(d *driver) error { return d.check("cuStreamDestroy", C.h_cuStreamDestroy(d.cuStreamDestroy, s.s)) })
}

// Sync waits for the stream's work to finish.
func (s *Stream) Sync() error {
	return s.c.do(func(d *driver) error {
		return d.check("cuStreamSynchronize", C.h_cuStreamSynchronize(d.cuStreamSynchronize, s.s))
	})
}

// CopyIn queues a copy of the first bytes of src to dst.
func (s *Stream) CopyIn(dst Buffer, src HostBuffer, bytes int) error {
	if err := fits(dst, bytes); err != nil {
		return err
	}
	if err := fits(Buffer{Bytes: src.Bytes}, bytes); err != nil {
		return err
	}
	return s.c.do(func(d *driver) error {
		return d.check("cuMemcpyHtoDAsync", C.h_cuMemcpyHtoDAsync(d.cuMemcpyHtoDAsync, dst.ptr, src.p, C.size_t(bytes), s.s))
	})
}

// CopyOut queues a copy of the first bytes of src to dst.
func (s *Stream) CopyOut(dst HostBuffer, src Buffer, bytes int) error {
	if err := fits(src, bytes); err != nil {
		return err
	}
	if err := fits(Buffer{Bytes: dst.Bytes}, bytes); err != nil {
		return err
	}
	return s.c.do(func(d *driver) error {
		return d.check("cuMemcpyDtoHAsync", C.h_cuMemcpyDtoHAsync(d.cuMemcpyDtoHAsync, dst.p, src.ptr, C.size_t(bytes), s.s))
	})
}
