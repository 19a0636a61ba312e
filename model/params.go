package model

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Param is one named tensor of a model, under the released state_dict name
// and shape. Its values live in Value, which every graph built on the model
// shares, so that training, evaluation and checkpoints see one copy.
type Param struct {
	Name  string
	Shape []int // the released (PyTorch) shape
	Value []float32
	// Trainable is false for the fixed sin-cos position tables, which
	// PyTorch's model.parameters() still counts.
	Trainable bool
	// Decay says whether AdamW's weight decay applies: weight matrices only,
	// none on biases, norms, the cls and mask tokens or the position tables.
	Decay bool
	init  initializer
}

// NumElements is the product of the shape.
func (p *Param) NumElements() int {
	n := 1
	for _, s := range p.Shape {
		n *= s
	}
	return n
}

// matrixShape is the shape the graph uses: leading unit axes dropped from
// tokens and tables ([1, n, d] → [n, d]), a convolution kernel flattened to
// [out, in·kh·kw].
func (p *Param) matrixShape() []int {
	s := p.Shape
	switch {
	case len(s) == 3 && s[0] == 1:
		return []int{s[1], s[2]}
	case len(s) == 4:
		return []int{s[0], s[1] * s[2] * s[3]}
	}
	return s
}

// initializer fills a parameter's values at initialisation.
type initializer func(v []float32, rng *rand.Rand)

// xavierUniform: U(±sqrt(6/(fan_in+fan_out))), nn.init.xavier_uniform_.
func xavierUniform(fanIn, fanOut int) initializer {
	return uniform(math.Sqrt(6 / float64(fanIn+fanOut)))
}

// kaimingUniform: U(±sqrt(6/fan_in)), nn.init.kaiming_uniform_ with a = 0.
func kaimingUniform(fanIn int) initializer { return uniform(math.Sqrt(6 / float64(fanIn))) }

// convBias: U(±1/sqrt(fan_in)), PyTorch's default Conv2d bias, which the
// released initialisation leaves as it is.
func convBias(fanIn int) initializer { return uniform(1 / math.Sqrt(float64(fanIn))) }

func uniform(bound float64) initializer {
	return func(v []float32, rng *rand.Rand) {
		for i := range v {
			v[i] = float32((2*rng.Float64() - 1) * bound)
		}
	}
}

// normal: N(0, std²), nn.init.normal_.
func normal(std float64) initializer {
	return func(v []float32, rng *rand.Rand) {
		for i := range v {
			v[i] = float32(rng.NormFloat64() * std)
		}
	}
}

func constant(c float32) initializer {
	return func(v []float32, _ *rand.Rand) {
		for i := range v {
			v[i] = c
		}
	}
}

// sinCosTable is a fixed 2-D sin-cos position table (see posEmbed2D).
func sinCosTable(dim, grid int) initializer {
	return func(v []float32, _ *rand.Rand) { copy(v, posEmbed2D(dim, grid)) }
}

// paramList collects a model's parameters in the released state_dict order.
type paramList []*Param

func (l *paramList) add(name string, shape []int, trainable, decay bool, init initializer) {
	*l = append(*l, &Param{Name: name, Shape: shape, Trainable: trainable, Decay: decay, init: init})
}

// linear adds PREFIX.weight [out, in] (xavier) and PREFIX.bias [out] (zero).
func (l *paramList) linear(prefix string, in, out int, bias bool) {
	l.add(prefix+".weight", []int{out, in}, true, true, xavierUniform(in, out))
	if bias {
		l.add(prefix+".bias", []int{out}, true, false, constant(0))
	}
}

// layerNorm adds PREFIX.weight (one) and PREFIX.bias (zero).
func (l *paramList) layerNorm(prefix string, d int) {
	l.add(prefix+".weight", []int{d}, true, false, constant(1))
	l.add(prefix+".bias", []int{d}, true, false, constant(0))
}

// dictionary adds a CRATE block's square weight [d, d] (kaiming uniform).
func (l *paramList) dictionary(name string, d int) {
	l.add(name, []int{d, d}, true, true, kaimingUniform(d))
}

// newParams lists the parameters of the model c describes, in the order of
// the released code's state_dict, with no values allocated yet.
func newParams(c Config) paramList {
	var l paramList
	d, dd, n := c.EmbedDim, c.DecoderEmbedDim, c.NumPatches()+1
	l.add("cls_token", []int{1, 1, d}, true, false, normal(0.02))
	l.add("pos_embed", []int{1, n, d}, false, false, sinCosTable(d, c.Grid()))
	l.add("mask_token", []int{1, 1, dd}, true, false, normal(0.02))
	l.add("decoder_pos_embed", []int{1, n, dd}, false, false, sinCosTable(dd, c.Grid()))
	fanIn := c.InChans * c.PatchSize * c.PatchSize
	l.add("patch_embed.proj.weight", []int{d, c.InChans, c.PatchSize, c.PatchSize}, true, true, xavierUniform(fanIn, d))
	l.add("patch_embed.proj.bias", []int{d}, true, false, convBias(fanIn))
	for i := 0; i < c.Depth; i++ {
		p := fmt.Sprintf("blocks.%d.", i)
		if c.Arch == ArchCRATE {
			l.layerNorm(p+"layers.0.0.norm", d)
			l.linear(p+"layers.0.0.fn.qkv", d, d, false)
			l.linear(p+"layers.0.0.fn.to_out.0", d, d, true)
			l.layerNorm(p+"layers.0.1.norm", d)
			l.dictionary(p+"layers.0.1.fn.weight", d)
		} else {
			l.vitBlock(p, d, c.MLPHidden(d))
		}
	}
	l.layerNorm("norm", d)
	l.linear("decoder_embed", d, dd, true)
	for i := 0; i < c.DecoderDepth; i++ {
		p := fmt.Sprintf("decoder_blocks.%d.", i)
		if c.Arch == ArchCRATE {
			l.dictionary(p+"layers.0.0.fn.weight", dd)
			l.layerNorm(p+"layers.0.0.norm", dd)
			l.layerNorm(p+"layers.0.1.norm", dd)
			l.linear(p+"layers.0.1.fn.qkv", dd, dd, false)
			l.linear(p+"layers.0.1.fn.to_out.0", dd, dd, true)
		} else {
			l.vitBlock(p, dd, c.MLPHidden(dd))
		}
	}
	l.layerNorm("decoder_norm", dd)
	l.linear("decoder_pred", dd, c.PatchDim(), true)
	return l
}

// vitBlock adds the parameters of a pre-norm ViT block of width d.
func (l *paramList) vitBlock(prefix string, d, hidden int) {
	l.layerNorm(prefix+"norm1", d)
	l.linear(prefix+"attn.qkv", d, 3*d, false)
	l.linear(prefix+"attn.proj", d, d, true)
	l.layerNorm(prefix+"norm2", d)
	l.linear(prefix+"mlp.fc1", d, hidden, true)
	l.linear(prefix+"mlp.fc2", hidden, d, true)
}

// Counts are a model's parameter counts, as PyTorch reports them.
type Counts struct {
	// Total counts every parameter, the fixed position tables included, as
	// sum(p.numel() for p in model.parameters()) does.
	Total int64 `json:"total"`
	// Trainable leaves the position tables out.
	Trainable int64 `json:"trainable"`
	// Encoder counts patch embedding, cls token, encoder position table,
	// encoder blocks and the final norm; Decoder the rest.
	Encoder int64 `json:"encoder"`
	Decoder int64 `json:"decoder"`
}

// encoderParam tells whether a named parameter belongs to the encoder.
func encoderParam(name string) bool {
	for _, p := range []string{"cls_token", "pos_embed", "patch_embed.", "blocks.", "norm."} {
		if len(name) >= len(p) && name[:len(p)] == p {
			return true
		}
	}
	return false
}

// CountParams counts the parameters of the model c describes, without
// allocating it.
func CountParams(c Config) (Counts, error) {
	if err := c.Validate(); err != nil {
		return Counts{}, err
	}
	var n Counts
	for _, p := range newParams(c) {
		k := int64(p.NumElements())
		n.Total += k
		if p.Trainable {
			n.Trainable += k
		}
		if encoderParam(p.Name) {
			n.Encoder += k
		} else {
			n.Decoder += k
		}
	}
	return n, nil
}
