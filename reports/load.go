package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"harness/ablations"
	"harness/model"
	"harness/store"
)

// Metric keys the reports read (the training contract).
const (
	keyTrainLoss   = "train/loss"
	keyReconLoss   = "eval/recon_loss"
	keyProbeAcc    = "eval/linear_probe_acc"
	keyProbeAccAvg = "eval/linear_probe_acc_mean"
	keyKNNAcc      = "eval/knn_acc"
	kindReconGrid  = "recon_grid"
)

// headline lists the final metrics of the tables, in column order.
var headline = []string{keyProbeAcc, keyProbeAccAvg, keyKNNAcc, keyReconLoss, keyTrainLoss}

// curveKeys are the metrics drawn against the step.
var curveKeys = []string{keyTrainLoss, keyReconLoss, keyProbeAcc, keyKNNAcc}

// metricNames are the display names of the metrics.
var metricNames = map[string]string{
	keyTrainLoss:   "train loss",
	keyReconLoss:   "reconstruction loss",
	keyProbeAcc:    "linear-probe accuracy",
	keyProbeAccAvg: "linear-probe accuracy (mean)",
	keyKNNAcc:      "k-NN accuracy",
	"coding_rate":  "coding rate",
	"sparsity":     "sparsity",
	"hoyer":        "Hoyer sparsity",
}

// higherIsBetter tells the direction of a metric: accuracies up, losses
// down.
func higherIsBetter(key string) bool { return strings.Contains(key, "acc") }

// archNames are the display names of the architectures.
var archNames = map[string]string{model.ArchCRATE: "CRATE-MAE", model.ArchViT: "MAE"}

// archName is the display name of arch.
func archName(arch string) string {
	if n, ok := archNames[arch]; ok {
		return n
	}
	if arch == "" {
		return "unknown architecture"
	}
	return arch
}

// archOrder sorts architectures: CRATE-MAE, MAE, others.
func archOrder(arch string) int {
	switch arch {
	case model.ArchCRATE:
		return 0
	case model.ArchViT:
		return 1
	}
	return 2
}

// runInfo is a run read from the store.
type runInfo struct {
	store.Run
	cfg    ablations.Run // config_json
	cfgErr error         // set when config_json does not parse
	// Of finished runs only:
	final  map[string]float64         // each key's value at its last step
	curves map[string][]stepValue     // curveKeys against the step
	grids  []string                   // recon_grid artifacts, in order
	layers map[string]map[int]float64 // "enc/coding_rate" → layer → final value
}

type stepValue struct {
	step  int64
	value float64
}

// axisInfo describes an ablation axis of an experiment.
type axisInfo struct {
	key     string
	short   string   // for labels: the key's last dotted part unless ambiguous
	values  []string // in order: numeric ascending, else first seen
	numeric bool     // every value reads as a number
	num     map[string]float64
}

// experiment is everything a report shows.
type experiment struct {
	name        string
	description string
	toml        string
	runs        []*runInfo  // every run, by id
	axes        []*axisInfo // in order of first appearance
	configs     []*config   // variant, then axis values
	missing     []*runInfo  // latest per configuration and seed, not done, or unreadable
	superseded  int         // earlier runs of a configuration and seed
	statusCount map[string]int
	// version is the current version of the file (0: none recorded);
	// otherVersions counts the runs of other versions left out.
	version       int
	otherVersions int
	notes         []store.Note          // on the experiment
	tags          map[int64][]store.Tag // by run id
}

// load reads an experiment's runs, those of its current version unless
// allVersions, and their metrics and groups them.
func load(s *store.Store, name string, rec store.Experiment, allVersions bool) (*experiment, error) {
	runs, err := s.Runs(store.Filter{Experiment: name, Current: !allVersions})
	if err != nil {
		return nil, err
	}
	exp := &experiment{name: name, description: rec.Description, toml: rec.TOML, statusCount: map[string]int{}}
	if err := loadVersion(s, exp, len(runs), allVersions); err != nil {
		return nil, err
	}
	for _, r := range runs {
		ri := &runInfo{Run: r}
		if err := json.Unmarshal([]byte(r.ConfigJSON), &ri.cfg); err != nil {
			ri.cfgErr = fmt.Errorf("config_json does not parse: %w", err)
		}
		exp.runs = append(exp.runs, ri)
		exp.statusCount[r.Status]++
	}
	if err := loadResults(s, exp.runs); err != nil {
		return nil, err
	}
	exp.group()
	return exp, nil
}

// loadVersion reads the experiment's current version, how many runs of
// other versions a report of n runs leaves out, its notes and its runs'
// tags.
func loadVersion(s *store.Store, exp *experiment, n int, allVersions bool) error {
	v, err := s.CurrentVersion(exp.name)
	switch {
	case err == nil:
		exp.version = v.Number
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	if !allVersions {
		all, err := s.Runs(store.Filter{Experiment: exp.name})
		if err != nil {
			return err
		}
		exp.otherVersions = len(all) - n
	}
	if exp.notes, err = s.Notes(0, exp.name); err != nil {
		return err
	}
	exp.tags, err = s.Tags()
	return err
}

// loadResults reads the metrics and artifacts of the finished runs, a few
// runs at a time.
func loadResults(s *store.Store, runs []*runInfo) error {
	work := make(chan *runInfo)
	errs := make(chan error, len(runs))
	var wg sync.WaitGroup
	for range min(4, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ri := range work {
				if err := ri.loadResults(s); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, ri := range runs {
		if ri.Status == store.StatusDone && ri.cfgErr == nil {
			work <- ri
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs // nil when none
}

// loadResults reads a finished run's metrics and artifacts.
func (ri *runInfo) loadResults(s *store.Store) error {
	ms, err := s.Metrics(ri.ID, "")
	if err != nil {
		return err
	}
	ri.final = make(map[string]float64)
	ri.curves = make(map[string][]stepValue)
	ri.layers = make(map[string]map[int]float64)
	last := make(map[string]int64)
	for _, m := range ms { // ordered by step
		if step, ok := last[m.Key]; !ok || m.Step >= step {
			last[m.Key] = m.Step
			ri.final[m.Key] = m.Value
		}
		for _, k := range curveKeys {
			if m.Key == k {
				ri.curves[k] = append(ri.curves[k], stepValue{m.Step, m.Value})
			}
		}
	}
	for key, v := range ri.final {
		if part, layer, quantity, ok := layerKey(key); ok {
			k := part + "/" + quantity
			if ri.layers[k] == nil {
				ri.layers[k] = make(map[int]float64)
			}
			ri.layers[k][layer] = v
		}
	}
	arts, err := s.Artifacts(ri.ID)
	if err != nil {
		return err
	}
	for _, a := range arts {
		if a.Kind == kindReconGrid {
			ri.grids = append(ri.grids, a.Path)
		}
	}
	return nil
}

// layerKey parses layer/<enc|dec>/<i>/<quantity>.
func layerKey(key string) (part string, layer int, quantity string, ok bool) {
	f := strings.Split(key, "/")
	if len(f) != 4 || f[0] != "layer" || (f[1] != "enc" && f[1] != "dec") {
		return "", 0, "", false
	}
	i, err := strconv.Atoi(f[2])
	if err != nil || i < 0 {
		return "", 0, "", false
	}
	return f[1], i, f[3], true
}

// axisValue formats an axis value as run names show it.
func axisValue(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return x
	case nil:
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// isSeedAxis tells whether an axis is the seed, which configurations
// average over rather than split on.
func isSeedAxis(key string) bool { return key == "seed" }

// group sorts the runs into configurations and notes the axes.
func (exp *experiment) group() {
	byKey := make(map[string]*config)
	axes := make(map[string]*axisInfo)
	// latest run of each configuration and seed
	latest := make(map[string]*runInfo)
	for _, ri := range exp.runs {
		if ri.cfgErr != nil {
			exp.missing = append(exp.missing, ri)
			continue
		}
		c := newConfig(ri)
		if byKey[c.key] == nil {
			byKey[c.key] = c
			exp.configs = append(exp.configs, c)
		}
		for _, a := range c.axes {
			info := axes[a.Key]
			if info == nil {
				info = &axisInfo{key: a.Key, num: map[string]float64{}}
				axes[a.Key] = info
				exp.axes = append(exp.axes, info)
			}
			v := axisValue(a.Value)
			if !contains(info.values, v) {
				info.values = append(info.values, v)
			}
		}
		k := c.key + "\x00" + strconv.FormatUint(ri.cfg.Spec.Seed, 10)
		if prev := latest[k]; prev != nil {
			exp.superseded++
		}
		latest[k] = ri // runs come by id
	}
	for _, ri := range exp.runs {
		if ri.cfgErr != nil {
			continue
		}
		c := byKey[configKey(ri.cfg)]
		if latest[c.key+"\x00"+strconv.FormatUint(ri.cfg.Spec.Seed, 10)] != ri {
			continue
		}
		c.runs = append(c.runs, ri)
		if ri.Status != store.StatusDone {
			exp.missing = append(exp.missing, ri)
		}
	}
	sort.SliceStable(exp.missing, func(i, j int) bool { return exp.missing[i].ID < exp.missing[j].ID })
	for _, a := range exp.axes {
		a.finish()
	}
	shortNames(exp.axes)
	for _, c := range exp.configs {
		c.summarise(exp.axes)
	}
	sort.SliceStable(exp.configs, func(i, j int) bool { return exp.configs[i].less(exp.configs[j], exp.axes) })
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// finish orders an axis's values: numerically when all are numbers.
func (a *axisInfo) finish() {
	a.numeric = len(a.values) > 0
	for _, v := range a.values {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			a.numeric = false
			break
		}
		a.num[v] = x
	}
	if a.numeric {
		sort.SliceStable(a.values, func(i, j int) bool { return a.num[a.values[i]] < a.num[a.values[j]] })
	} else {
		clear(a.num)
	}
}

// index is the position of value v on the axis.
func (a *axisInfo) index(v string) int {
	for i, x := range a.values {
		if x == v {
			return i
		}
	}
	return len(a.values)
}

// shortNames gives each axis the last part of its dotted key as its short
// name, or the whole key when two axes would share it.
func shortNames(axes []*axisInfo) {
	count := make(map[string]int)
	for _, a := range axes {
		a.short = a.key[strings.LastIndex(a.key, ".")+1:]
		count[a.short]++
	}
	for _, a := range axes {
		if count[a.short] > 1 {
			a.short = a.key
		}
	}
}
