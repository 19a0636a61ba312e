package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// The model's blocks as the paper writes them. Each method adds one block
// to the graph; the first error sticks in gr.err and turns later calls into
// no-ops, so the blocks read as formulas.

// LayerNorm epsilons of the released code.
const (
	blockEps = 1e-5 // inside blocks
	finalEps = 1e-6 // norm and decoder_norm
)

// param returns the graph node of the named parameter.
func (gr *Graph) param(name string) *G.Node {
	p := gr.m.byName[name]
	if p == nil {
		gr.fail(fmt.Errorf("no parameter %q", name))
		return nil
	}
	gr.used[p] = true
	return gr.nodes[p]
}

func (gr *Graph) fail(err error) {
	if gr.err == nil {
		gr.err = err
	}
}

// apply adds kernel k unless an earlier block failed.
func (gr *Graph) apply(k Kernel, inputs ...*G.Node) *G.Node {
	if gr.err != nil {
		return nil
	}
	n, err := apply(k, inputs...)
	gr.fail(err)
	return n
}

func (gr *Graph) rows(x *G.Node) int { return x.Shape()[0] }

// linear: x Wᵀ + b.
func (gr *Graph) linear(prefix string, x *G.Node, bias bool) *G.Node {
	if gr.err != nil {
		return nil
	}
	w := gr.param(prefix + ".weight")
	k := Linear{Rows: gr.rows(x), In: w.Shape()[1], Out: w.Shape()[0], Bias: bias}
	if bias {
		return gr.apply(k, x, w, gr.param(prefix+".bias"))
	}
	return gr.apply(k, x, w)
}

// layerNorm: (x - μ)/σ · γ + β per token.
func (gr *Graph) layerNorm(prefix string, x *G.Node, eps float32) *G.Node {
	if gr.err != nil {
		return nil
	}
	k := LayerNorm{Rows: gr.rows(x), Width: x.Shape()[1], Eps: eps}
	return gr.apply(k, x, gr.param(prefix+".weight"), gr.param(prefix+".bias"))
}

// mssa: MSSA(z) = to_out(concat_h softmax(wₕwₕᵀ/√d) wₕ), w = z Uᵀ, one
// subspace basis Uₕ per head.
func (gr *Graph) mssa(prefix string, z *G.Node, heads int) *G.Node {
	if gr.err != nil {
		return nil
	}
	w := gr.linear(prefix+".qkv", z, false)
	dims := AttentionDims{B: gr.batch, T: gr.rows(z) / gr.batch, H: heads, HD: z.Shape()[1] / heads}
	return gr.linear(prefix+".to_out.0", gr.apply(newMSSA(dims), w), true)
}

// ista: relu(z + η(z D - z Dᵀ D) - ηλ), one proximal step towards a sparse
// code of z in the dictionary D.
func (gr *Graph) ista(name string, z *G.Node) *G.Node {
	if gr.err != nil {
		return nil
	}
	c := gr.m.Config
	k := ISTA{Rows: gr.rows(z), D: z.Shape()[1], Eta: float32(c.StepSize), Lambda: float32(c.Lambd)}
	return gr.apply(k, z, gr.param(name))
}

// crateEncoderBlock: z = z + MSSA(LN(z)) compresses, z = ISTA(LN(z))
// sparsifies (no skip connection around ISTA).
func (gr *Graph) crateEncoderBlock(prefix string, z *G.Node) *G.Node {
	z = gr.add(z, gr.mssa(prefix+"layers.0.0.fn", gr.layerNorm(prefix+"layers.0.0.norm", z, blockEps), gr.m.Config.NumHeads))
	return gr.ista(prefix+"layers.0.1.fn.weight", gr.layerNorm(prefix+"layers.0.1.norm", z, blockEps))
}

// crateDecoderBlock, the encoder block's partial inverse: z = LN(z) Dᵀ
// undoes the sparse coding, z = z - MSSA(LN(z)) undoes the compression.
func (gr *Graph) crateDecoderBlock(prefix string, z *G.Node) *G.Node {
	if gr.err != nil {
		return nil
	}
	z = gr.linear(prefix+"layers.0.0.fn", gr.layerNorm(prefix+"layers.0.0.norm", z, blockEps), false)
	return gr.sub(z, gr.mssa(prefix+"layers.0.1.fn", gr.layerNorm(prefix+"layers.0.1.norm", z, blockEps), gr.m.Config.DecoderNumHeads))
}

// vitBlock, pre-norm: z = z + Attn(LN(z)), z = z + MLP(LN(z)), with
// Attn(x) = proj(softmax(q kᵀ/√d) v), bias-free qkv, and MLP(x) =
// fc2(GELU(fc1(x))). It also returns the MLP's hidden activations.
func (gr *Graph) vitBlock(prefix string, z *G.Node, heads int) (out, hidden *G.Node) {
	if gr.err != nil {
		return nil, nil
	}
	dims := AttentionDims{B: gr.batch, T: gr.rows(z) / gr.batch, H: heads, HD: z.Shape()[1] / heads}
	qkv := gr.linear(prefix+"attn.qkv", gr.layerNorm(prefix+"norm1", z, blockEps), false)
	z = gr.add(z, gr.linear(prefix+"attn.proj", gr.apply(newSelfAttention(dims), qkv), true))
	h := gr.linear(prefix+"mlp.fc1", gr.layerNorm(prefix+"norm2", z, blockEps), true)
	if gr.err != nil {
		return nil, nil
	}
	h = gr.apply(GELU{Rows: gr.rows(h), Width: h.Shape()[1]}, h)
	return gr.add(z, gr.linear(prefix+"mlp.fc2", h, true)), h
}

// vitLayer records a ViT block for the layer-wise measurements: its
// subspaces are the value rows of its qkv projection.
func (gr *Graph) vitLayer(prefix string, out, hidden *G.Node, decoder bool) layerNodes {
	width := 0
	if out != nil {
		width = out.Shape()[1]
	}
	return layerNodes{decoder: decoder, out: out, hidden: hidden, subspaces: prefix + "attn.qkv.weight", offset: 2 * width}
}

// add: a + b.
func (gr *Graph) add(a, b *G.Node) *G.Node { return gr.residual(a, b, 1) }

// sub: a - b.
func (gr *Graph) sub(a, b *G.Node) *G.Node { return gr.residual(a, b, -1) }

func (gr *Graph) residual(a, b *G.Node, sign float32) *G.Node {
	if gr.err != nil {
		return nil
	}
	return gr.apply(Residual{Rows: gr.rows(a), Width: a.Shape()[1], Sign: sign}, a, b)
}

// sequence assembles tokens from src, the position table pos and the
// learned tokens, after the layout input lay (see the Sequence kernel).
func (gr *Graph) sequence(src *G.Node, srcLen int, pos string, lay *G.Node, tokens ...string) *G.Node {
	if gr.err != nil {
		return nil
	}
	table := gr.param(pos)
	k := Sequence{B: gr.batch, SrcLen: srcLen, PosLen: table.Shape()[0], D: src.Shape()[1], Tokens: len(tokens), N: gr.rows(lay) / gr.batch}
	inputs := []*G.Node{src, table, lay}
	for _, t := range tokens {
		inputs = append(inputs, gr.param(t))
	}
	return gr.apply(k, inputs...)
}

// build adds the whole masked autoencoder as models_mae.py's forward does:
// latent = forwardEncoder(imgs), pred = forwardDecoder(latent),
// loss = forwardLoss(pred, target).
func (gr *Graph) build() error {
	latent := gr.forwardEncoder(gr.patches)
	if gr.encoderOnly {
		gr.features = latent
		return gr.err
	}
	gr.pred = gr.forwardDecoder(latent)
	gr.loss = gr.forwardLoss(gr.pred, gr.target)
	return gr.err
}

// forwardEncoder: x = patch_embed(imgs), x = the patches randomMasking
// keeps (+ pos_embed, cls in front), x = blocks(x), latent = norm(x).
func (gr *Graph) forwardEncoder(patches *G.Node) *G.Node {
	c := gr.m.Config
	x := gr.linear("patch_embed.proj", patches, true) // a stride-p convolution
	x = gr.maskedSequence(x)
	for i := 0; i < c.Depth; i++ {
		p := fmt.Sprintf("blocks.%d.", i)
		if c.Arch == ArchCRATE {
			x = gr.crateEncoderBlock(p, x)
			gr.layers = append(gr.layers, layerNodes{out: x, subspaces: p + "layers.0.0.fn.qkv.weight"})
		} else {
			var hidden *G.Node
			x, hidden = gr.vitBlock(p, x, c.NumHeads)
			gr.layers = append(gr.layers, gr.vitLayer(p, x, hidden, false))
		}
	}
	return gr.layerNorm("norm", x, finalEps)
}

// maskedSequence is the encoder's input after the batch's randomMasking
// (pass.go): with visible masking cls and the kept patches only, with
// pos_embed; with released masking the whole sequence, mask tokens in the
// removed places and decoder_pos_embed added.
func (gr *Graph) maskedSequence(x *G.Node) *G.Node {
	l := gr.m.Config.NumPatches()
	if gr.m.Config.Masking == MaskingReleased {
		gr.encLayout = gr.input("encoder_layout", gr.batch*(1+l), 2)
		return gr.sequence(x, l, "decoder_pos_embed", gr.encLayout, "cls_token", "mask_token")
	}
	gr.encLayout = gr.input("encoder_layout", gr.batch*(1+gr.keep), 2)
	return gr.sequence(x, l, "pos_embed", gr.encLayout, "cls_token")
}

// forwardDecoder: x = decoder_embed(latent), mask tokens put back in the
// removed places (+ decoder_pos_embed), x = decoder_blocks(x),
// pred = decoder_pred(decoder_norm(x)). Under released masking the encoder
// kept every place and the decoder starts from its output.
func (gr *Graph) forwardDecoder(x *G.Node) *G.Node {
	c := gr.m.Config
	if c.Masking == MaskingVisible {
		x = gr.linear("decoder_embed", x, true)
		gr.decLayout = gr.input("decoder_layout", gr.batch*(1+c.NumPatches()), 2)
		x = gr.sequence(x, 1+gr.keep, "decoder_pos_embed", gr.decLayout, "mask_token")
	}
	for i := 0; i < c.DecoderDepth; i++ {
		p := fmt.Sprintf("decoder_blocks.%d.", i)
		if c.Arch == ArchCRATE {
			x = gr.crateDecoderBlock(p, x)
			gr.layers = append(gr.layers, layerNodes{decoder: true, out: x, subspaces: p + "layers.0.1.fn.qkv.weight"})
		} else {
			var hidden *G.Node
			x, hidden = gr.vitBlock(p, x, c.DecoderNumHeads)
			gr.layers = append(gr.layers, gr.vitLayer(p, x, hidden, true))
		}
	}
	return gr.linear("decoder_pred", gr.layerNorm("decoder_norm", x, finalEps), true)
}

// forwardLoss: loss = Σ mask · mean((pred - target)²) / Σ mask over the
// patches, target standardised per patch under norm_pix_loss (see feed).
func (gr *Graph) forwardLoss(pred, target *G.Node) *G.Node {
	c := gr.m.Config
	loss := gr.apply(MaskedMSE{B: gr.batch, L: c.NumPatches(), P: c.PatchDim()}, pred, target, gr.mask)
	if gr.err != nil {
		return nil
	}
	sum, err := G.Sum(loss)
	gr.fail(err)
	return sum
}
