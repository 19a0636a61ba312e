package reports

import (
	"math"
	"sort"
	"strings"

	"harness/ablations"
	"harness/model"
	"harness/store"
)

// config is a configuration: a variant with its ablation values, run once
// per seed.
type config struct {
	key       string
	variant   string // as the experiment names it; the architecture's name if unnamed
	arch      string // spec.model.arch
	axes      []ablations.AxisValue
	values    map[string]string // axis key → value as run names show it
	label     string            // "CRATE-MAE, mask_ratio=0.5"
	spec      ablations.Run     // of the first run
	counts    model.Counts
	countsErr error
	stored    int64      // params_total the first run recorded
	runs      []*runInfo // the latest run of each seed
	done      []*runInfo // those finished, by seed
	stats     map[string]stat
}

// stat summarises a metric over seeds.
type stat struct {
	mean, std float64 // std is the sample standard deviation; 0 for one value
	n         int
}

// summarize returns the mean and sample standard deviation of vs.
func summarize(vs []float64) stat {
	s := stat{n: len(vs)}
	if s.n == 0 {
		return s
	}
	for _, v := range vs {
		s.mean += v
	}
	s.mean /= float64(s.n)
	if s.n > 1 {
		var ss float64
		for _, v := range vs {
			ss += (v - s.mean) * (v - s.mean)
		}
		s.std = math.Sqrt(ss / float64(s.n-1))
	}
	return s
}

// configKey identifies a run's configuration: its variant and axis values.
func configKey(r ablations.Run) string {
	var b strings.Builder
	b.WriteString(r.Variant)
	for _, a := range r.Axes {
		if !isSeedAxis(a.Key) {
			b.WriteString("\x00" + a.Key + "=" + axisValue(a.Value))
		}
	}
	return b.String()
}

// newConfig starts the configuration of ri.
func newConfig(ri *runInfo) *config {
	c := &config{
		key:     configKey(ri.cfg),
		variant: ri.cfg.Variant,
		arch:    ri.cfg.Spec.Model.Arch,
		values:  make(map[string]string),
		spec:    ri.cfg,
		stored:  ri.ParamsTotal,
	}
	if c.variant == "" {
		c.variant = archName(c.arch)
	}
	for _, a := range ri.cfg.Axes {
		if !isSeedAxis(a.Key) {
			c.axes = append(c.axes, a)
			c.values[a.Key] = axisValue(a.Value)
		}
	}
	c.counts, c.countsErr = model.CountParams(ri.cfg.Spec.Model)
	return c
}

// total is the total parameter count: counted from the model
// configuration, else as the run recorded it.
func (c *config) total() int64 {
	if c.countsErr == nil {
		return c.counts.Total
	}
	return c.stored
}

// summarise labels c and summarises its finished runs' final metrics.
func (c *config) summarise(axes []*axisInfo) {
	c.label = c.variant
	if s := c.setting(axes, nil); s != "" {
		c.label += ", " + s
	}
	for _, ri := range c.runs {
		if ri.Status == store.StatusDone {
			c.done = append(c.done, ri)
		}
	}
	sort.SliceStable(c.done, func(i, j int) bool { return c.done[i].cfg.Spec.Seed < c.done[j].cfg.Spec.Seed })
	values := make(map[string][]float64)
	for _, ri := range c.done {
		for k, v := range ri.final {
			values[k] = append(values[k], v)
		}
	}
	c.stats = make(map[string]stat, len(values))
	for k, vs := range values {
		c.stats[k] = summarize(vs)
	}
}

// setting labels c's axis values, "mask_ratio=0.5, depth=4", leaving out
// the axes skip accepts.
func (c *config) setting(axes []*axisInfo, skip func(*axisInfo) bool) string {
	var parts []string
	for _, a := range axes {
		v, ok := c.values[a.key]
		if !ok || (skip != nil && skip(a)) {
			continue
		}
		parts = append(parts, a.short+"="+v)
	}
	return strings.Join(parts, ", ")
}

// matches reports whether configurations c and d agree on every axis
// but model.arch that both have. An axis only one of them has matches any
// value, as when a step-size axis applies to the CRATE-MAE variant alone
// and MAE is its reference at every step size.
func (c *config) matches(d *config, axes []*axisInfo) bool {
	for _, a := range axes {
		if a.key == "model.arch" {
			continue
		}
		cv, cok := c.values[a.key]
		dv, dok := d.values[a.key]
		if cok && dok && cv != dv {
			return false
		}
	}
	return true
}

// settingExcept is c's setting of every axis but key.
func (c *config) settingExcept(axes []*axisInfo, key string) string {
	return c.setting(axes, func(a *axisInfo) bool { return a.key == key })
}

// less orders configurations by architecture, variant, then axis values.
func (c *config) less(d *config, axes []*axisInfo) bool {
	if ao, bo := archOrder(c.arch), archOrder(d.arch); ao != bo {
		return ao < bo
	}
	if c.variant != d.variant {
		return c.variant < d.variant
	}
	return c.axesLess(d, axes)
}

// axesLess orders configurations by their axis values, first axis first.
func (c *config) axesLess(d *config, axes []*axisInfo) bool {
	for _, a := range axes {
		if i, j := a.index(c.values[a.key]), a.index(d.values[a.key]); i != j {
			return i < j
		}
	}
	return false
}

// pair is a CRATE-MAE configuration matched with an MAE one.
type pair struct {
	crate, mae *config
	setting    string   // the shared axis values
	seeds      []uint64 // finished in both
	ratio      float64  // CRATE-MAE / MAE total parameters
	diffs      map[string]stat
}

// MatchingRule is how the reports pair CRATE-MAE runs with MAE runs.
const MatchingRule = "A CRATE-MAE run (model.arch = crate) and an MAE run (model.arch = vit) are matched " +
	"when they share the value of every ablation axis, an axis that sets model.arch aside, and the seed; " +
	"the variant may differ. Every CRATE-MAE configuration is paired with every MAE configuration of the " +
	"same axis values. For each pair the differences CRATE-MAE − MAE of the final metrics are taken seed by " +
	"seed over the seeds both finished, and shown as mean ± standard deviation over those seeds; the " +
	"parameter ratio is CRATE-MAE's total parameter count over MAE's."

// pairs matches CRATE-MAE configurations with MAE ones (see MatchingRule).
func pairs(exp *experiment) []pair {
	matchAxes := func(a *axisInfo) bool { return a.key == "model.arch" }
	var out []pair
	for _, c := range exp.configs {
		if c.arch != model.ArchCRATE {
			continue
		}
		for _, m := range exp.configs {
			if m.arch != model.ArchViT || !c.matches(m, exp.axes) {
				continue
			}
			p := pair{crate: c, mae: m, setting: c.setting(exp.axes, matchAxes), diffs: make(map[string]stat)}
			if mt := m.total(); mt > 0 {
				p.ratio = float64(c.total()) / float64(mt)
			}
			bySeed := make(map[uint64]*runInfo)
			for _, ri := range m.done {
				bySeed[ri.cfg.Spec.Seed] = ri
			}
			diffs := make(map[string][]float64)
			for _, ri := range c.done {
				mr := bySeed[ri.cfg.Spec.Seed]
				if mr == nil {
					continue
				}
				p.seeds = append(p.seeds, ri.cfg.Spec.Seed)
				for _, k := range headline {
					cv, ok1 := ri.final[k]
					mv, ok2 := mr.final[k]
					if ok1 && ok2 {
						diffs[k] = append(diffs[k], cv-mv)
					}
				}
			}
			for k, vs := range diffs {
				p.diffs[k] = summarize(vs)
			}
			out = append(out, p)
		}
	}
	return out
}

// best is the best configuration for a metric.
type best struct {
	metric string
	all    *config
	byArch map[string]*config
}

// bests finds, for each headline metric, the configuration with the best
// mean over seeds, overall and per architecture.
func bests(exp *experiment) []best {
	var out []best
	for _, k := range presentMetrics(exp) {
		b := best{metric: k, byArch: make(map[string]*config)}
		beats := func(c, d *config) bool { return d == nil || better(k, c.stats[k].mean, d.stats[k].mean) }
		for _, c := range exp.configs {
			if c.stats[k].n == 0 || math.IsNaN(c.stats[k].mean) {
				continue
			}
			if beats(c, b.all) {
				b.all = c
			}
			if beats(c, b.byArch[c.arch]) {
				b.byArch[c.arch] = c
			}
		}
		if b.all != nil {
			out = append(out, b)
		}
	}
	return out
}

// presentMetrics lists the headline metrics some finished run logged.
func presentMetrics(exp *experiment) []string {
	var out []string
	for _, k := range headline {
		for _, c := range exp.configs {
			if c.stats[k].n > 0 {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

// archs lists the architectures of the configurations, CRATE-MAE first.
func archs(exp *experiment) []string {
	seen := make(map[string]bool)
	var out []string
	for _, c := range exp.configs {
		if !seen[c.arch] {
			seen[c.arch] = true
			out = append(out, c.arch)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return archOrder(out[i]) < archOrder(out[j]) })
	return out
}
