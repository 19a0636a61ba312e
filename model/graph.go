package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Graph is a compiled pass of a Model over batches of a fixed size at a fixed
// mask ratio: the forward pass, and with training the backward pass, whose
// gradients Grad returns. It is not safe for concurrent use.
type Graph struct {
	m           *Model
	batch, keep int
	g           *G.ExprGraph
	vm          G.VM
	nodes       map[*Param]*G.Node
	used        map[*Param]bool
	grads       map[*Param]*G.Node
	// the inputs, which run writes for every batch: the patches in (c, p,
	// q) order, the loss targets, and randomMasking's mask [batch, L] and
	// layouts [batch·n, 2] (decLayout under visible masking only)
	patches, target      *G.Node
	mask                 *G.Node
	encLayout, decLayout *G.Node
	pred, loss           *G.Node
	err                  error // the first error while building
	encoderOnly          bool
	features             *G.Node // the encoder's output, after norm
	layers               []layerNodes
}

// layerNodes are what the layer-wise measurements read of one block.
type layerNodes struct {
	decoder   bool
	out       *G.Node // the block's output
	hidden    *G.Node // a ViT block's MLP activations
	subspaces string  // the attention projection's parameter
	offset    int     // its first row of the subspace bases
}

// Output is what a pass computes for one batch.
type Output struct {
	Loss float32
	Pred []float32 // [batch, patches, patch_dim], the decoder's prediction
	Mask []float32 // [batch, patches], 1 on removed patches
}

// NewGraph compiles the model's pass for the given batch size and mask
// ratio; train adds the backward pass.
func (m *Model) NewGraph(batch int, maskRatio float64, train bool) (*Graph, error) {
	keep, err := m.Config.Kept(maskRatio)
	if err != nil {
		return nil, err
	}
	return m.newGraph(batch, keep, train, false)
}

// NewEncoder compiles the encoder alone over whole images, every patch
// kept, for the features that linear probes and k-NN classify (Encode).
func (m *Model) NewEncoder(batch int) (*Graph, error) {
	return m.newGraph(batch, m.Config.NumPatches(), false, true)
}

func (m *Model) newGraph(batch, keep int, train, encoderOnly bool) (*Graph, error) {
	c := m.Config
	if batch < 1 {
		return nil, fmt.Errorf("train.batch_size: must be positive, got %d", batch)
	}
	gr := &Graph{
		m: m, batch: batch, keep: keep, g: G.NewGraph(), encoderOnly: encoderOnly,
		nodes: map[*Param]*G.Node{},
		used:  map[*Param]bool{},
	}
	for _, p := range m.Params {
		t := tensor.New(tensor.WithShape(p.matrixShape()...), tensor.WithBacking(p.Value))
		gr.nodes[p] = G.NodeFromAny(gr.g, t, G.WithName(p.Name))
	}
	gr.patches = gr.input("patches", batch*c.NumPatches(), c.PatchDim())
	gr.target = gr.input("target", batch*c.NumPatches(), c.PatchDim())
	gr.mask = gr.input("mask", batch, c.NumPatches())
	if err := gr.build(); err != nil {
		return nil, fmt.Errorf("building the %s graph: %w", c.Arch, err)
	}
	if train && !encoderOnly {
		// decoder_embed, unused under released masking, gets no gradient
		var wrt []*Param
		var wrtNodes G.Nodes
		for _, p := range m.Params {
			if p.Trainable && gr.used[p] {
				wrt = append(wrt, p)
				wrtNodes = append(wrtNodes, gr.nodes[p])
			}
		}
		gs, err := G.Grad(gr.loss, wrtNodes...)
		if err != nil {
			return nil, fmt.Errorf("differentiating the %s graph: %w", c.Arch, err)
		}
		gr.grads = map[*Param]*G.Node{}
		for i, p := range wrt {
			gr.grads[p] = gs[i]
		}
	}
	gr.vm = G.NewTapeMachine(gr.g)
	return gr, nil
}

func (gr *Graph) input(name string, rows, cols int) *G.Node {
	return G.NewMatrix(gr.g, tensor.Float32, G.WithShape(rows, cols), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(rows, cols), tensor.Of(tensor.Float32))))
}
