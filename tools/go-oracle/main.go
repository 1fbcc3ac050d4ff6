// go-oracle: promkit's differential oracle, built on the reference implementation
// as Debian 12 packages it (Go 1.19, prometheus/common 0.39 expfmt, client_golang
// 1.14, client_model). scripts/install-deps builds it (GOPATH mode, offline) into
// ${PROMKIT_CACHE:-~/.cache/promkit}/go-oracle; crates/promkit-oracle runs it.
//
// Usage: go-oracle MODE
//
//	parse               stdin text 0.0.4: strict expfmt.TextParser, then client_golang's
//	                    gather-time consistency checks; prints "ok: N families, M samples"
//	canon               stdin text 0.0.4 -> expfmt.MetricFamilyToText, families in input order
//	openmetrics         stdin text 0.0.4 -> expfmt.MetricFamilyToOpenMetrics, then "# EOF"
//	golden              no input: the registry below -> expfmt.MetricFamilyToText
//	golden-openmetrics  no input: the registry below -> OpenMetrics, then "# EOF"
//	empty               no input: the empty-families registry below -> expfmt.MetricFamilyToText
//	empty-openmetrics   no input: the same -> OpenMetrics, then "# EOF"
//	decode-protobuf     stdin length-delimited io.prometheus.client.MetricFamily messages
//	                    (expfmt.FmtProtoDelim) -> expfmt.MetricFamilyToText, in input order
//	describe-text       stdin text 0.0.4 (expfmt.TextParser) -> one line per family, "NAME TYPE",
//	                    then one per series: "  {l=\"v\",...} KIND ...": gauge/counter/untyped
//	                    VALUE, or histogram count=N sum=S buckets=LE:COUNT,... (types as
//	                    dto names them: GAUGE_HISTOGRAM, ...), for types no text encoder of
//	                    this Go version writes
//	describe-protobuf   the same, from stdin length-delimited MetricFamily messages
//	time-parse          stdin text 0.0.4, parsed with expfmt.TextParser again and again for
//	                    at least two seconds (three runs at least); prints
//	                    "runs=N ns_per_run=MEAN ns_min=FASTEST cpu_ns_per_run=CPU bytes=B samples=S"
//	                    (CPU: user+system time of the process, GC threads included, per run)
//	                    (the Go column of the parser benchmark)
//
// Exit status: 0 ok; 1 input rejected (the reason is on stderr); 2 usage.
//
// The golden registry. Each metric below is registered on a fresh
// prometheus.NewRegistry() and updated with exactly these calls, in this order.
// The output is Gather() order: families sorted by name, series sorted by label
// values. Another implementation replays the same calls and must print the same
// bytes.
//
//	completion_duration_histogram_ms   histogram, help "Latency for mapping completion in ms",
//	    buckets LinearBuckets(start 200-5*40, width 0.5*40, count 20) = 0, 20, 40, ..., 380;
//	    Observe 0, 12.5, 20, 187.25, 200, 233.3, 380, 512
//	success_counter   counter, help "Count of successful mapping completions"; Inc() 6 times
//	failure_counter   counter, help "Count of failed mapping completions"; Inc() 2 times
//	escape_test_total   counter vec, help "Label values that need escaping", label names
//	    declared as ("value", "case"); for each row, in order, WithLabelValues(value, case).Add(n):
//	      case backslash  value `a\b`              n 1
//	      case quote      value `say "hi"`         n 2
//	      case newline    value "line1\nline2"     n 3   (a real newline)
//	      case tab        value "a\tb"             n 4   (a real tab)
//	      case unicode    value "ü ✓ 日本 🙂"       n 5
//	      case empty      value ""                 n 6
//	float_format_test   gauge vec, help "Gauge values that test float formatting", label "case";
//	    WithLabelValues(case).Set(v) for: zero 0 | neg_zero -0 (math.Copysign(0, -1)) |
//	    small 1e-05 | million 1e+06 | int 123456789 | huge 1.5e300 | nan NaN |
//	    pos_inf +Inf | neg_inf -Inf
//	request_duration_seconds   histogram, help "Exponential-bucket histogram",
//	    buckets ExponentialBuckets(start 0.001, factor 10, count 7) = 0.001 ... 1000;
//	    Observe 0.0005, 0.001, 0.0042, 0.5, 3, 75, 2500
//	payload_size_bytes   summary, help "Summary with objectives",
//	    Objectives {0.5: 0.05, 0.9: 0.01, 0.99: 0.001}; Observe 1.5, 2, 3.25, 4, 10, 0.25, 7
//	help_escape_test   gauge, help `Help with a backslash \ a "quote" and a` + "\n" + `newline`
//	    (a real newline); Set(42)
//
// The empty-families registry (modes empty, empty-openmetrics), on a fresh
// prometheus.NewRegistry(): what client_golang writes for vectors without series.
//
//	empty_total     counter vec, help "Never had a series", label "kind"; no calls
//	deleted_total   counter vec, help "Every series deleted", label "kind";
//	    WithLabelValues("a").Inc(), then DeleteLabelValues("a")
//	empty_seconds   histogram vec, help "Empty histogram vec", label "route", buckets 0.1, 1; no calls
//	used_seconds    histogram vec, help "Used histogram vec", label "route", buckets 0.1, 1;
//	    WithLabelValues("/a").Observe(0.5)
//	plain_total     counter, help "Unlabelled"; no calls
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

const usage = "usage: go-oracle parse|canon|openmetrics|golden|golden-openmetrics|empty|empty-openmetrics|decode-protobuf|native-golden|native-describe|describe-text|describe-protobuf|time-parse"

// encoder is the signature shared by MetricFamilyToText and MetricFamilyToOpenMetrics.
type encoder func(io.Writer, *dto.MetricFamily) (int, error)

func main() {
	if len(os.Args) != 2 {
		exit(2, usage)
	}
	out := &bytes.Buffer{} // written only on success, so a failure prints no partial output
	switch mode := os.Args[1]; mode {
	case "parse":
		mfs := parseStdin()
		if err := checkConsistency(mfs); err != nil {
			exit(1, "consistency error: %v", err)
		}
		var text bytes.Buffer
		writeAll(&text, mfs, expfmt.MetricFamilyToText)
		fmt.Fprintf(out, "ok: %d families, %d samples\n", len(mfs), countSamples(text.String()))
	case "canon":
		writeAll(out, parseStdin(), expfmt.MetricFamilyToText)
	case "openmetrics":
		writeAll(out, parseStdin(), expfmt.MetricFamilyToOpenMetrics)
		expfmt.FinalizeOpenMetrics(out)
	case "golden", "golden-openmetrics":
		mfs, err := goldenRegistry().Gather()
		if err != nil {
			exit(1, "gather error: %v", err)
		}
		if mode == "golden" {
			writeAll(out, mfs, expfmt.MetricFamilyToText)
		} else {
			writeAll(out, mfs, expfmt.MetricFamilyToOpenMetrics)
			expfmt.FinalizeOpenMetrics(out)
		}
	case "empty", "empty-openmetrics":
		mfs, err := emptyRegistry().Gather()
		if err != nil {
			exit(1, "gather error: %v", err)
		}
		if mode == "empty" {
			writeAll(out, mfs, expfmt.MetricFamilyToText)
		} else {
			writeAll(out, mfs, expfmt.MetricFamilyToOpenMetrics)
			expfmt.FinalizeOpenMetrics(out)
		}
	case "decode-protobuf":
		writeAll(out, decodeProtobuf(os.Stdin), expfmt.MetricFamilyToText)
	case "native-golden":
		mfs, err := nativeRegistry().Gather()
		if err != nil {
			exit(1, "gather error: %v", err)
		}
		describeNative(out, mfs)
	case "native-describe":
		describeNative(out, decodeProtobuf(os.Stdin))
	case "describe-text":
		describeFamilies(out, parseStdin())
	case "describe-protobuf":
		describeFamilies(out, decodeProtobuf(os.Stdin))
	case "time-parse":
		timeParse(out)
	default:
		exit(2, "unknown mode %q\n%s", mode, usage)
	}
	if _, err := os.Stdout.Write(out.Bytes()); err != nil {
		exit(1, "write stdout: %v", err)
	}
}

// timeParse times expfmt.TextParser on stdin: whole runs (a fresh parser and reader
// each), until two seconds have passed and at least three runs are done.
func timeParse(out io.Writer) {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		exit(1, "read stdin: %v", err)
	}
	samples := 0
	runs := 0
	best := time.Duration(math.MaxInt64)
	var before syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	for runs < 3 || time.Since(start) < 2*time.Second {
		t := time.Now()
		var p expfmt.TextParser
		mfs, err := p.TextToMetricFamilies(bytes.NewReader(input))
		if err != nil {
			exit(1, "parse error: %v", err)
		}
		if d := time.Since(t); d < best {
			best = d
		}
		if runs == 0 {
			for _, mf := range mfs {
				samples += len(mf.GetMetric())
			}
		}
		runs++
	}
	elapsed := time.Since(start)
	var after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	fmt.Fprintf(out, "runs=%d ns_per_run=%d ns_min=%d cpu_ns_per_run=%d bytes=%d samples=%d\n", runs,
		elapsed.Nanoseconds()/int64(runs), best.Nanoseconds(), cpu.Nanoseconds()/int64(runs), len(input), samples)
}

func exit(code int, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(code)
}

func writeAll(w io.Writer, mfs []*dto.MetricFamily, enc encoder) {
	for _, mf := range mfs {
		if _, err := enc(w, mf); err != nil {
			exit(1, "encode error: family %q: %v", mf.GetName(), err)
		}
	}
}

// countSamples counts the sample lines of a text 0.0.4 exposition, i.e. the
// samples Go itself writes for the parsed families (a histogram gains its
// +Inf bucket, a bucket without le is gone).
func countSamples(text string) int {
	n := 0
	for _, line := range strings.Split(text, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	return n
}

// checkConsistency runs client_golang's gather-time checks (duplicate series,
// invalid label names or values, _count/_sum/_bucket name collisions) over the
// families, as the Pushgateway does with what is pushed to it.
func checkConsistency(mfs []*dto.MetricFamily) error {
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, nil })
	_, err := prometheus.Gatherers{g}.Gather()
	return err
}

// parseStdin parses stdin with the strict text 0.0.4 parser (the one promtool
// and the Pushgateway use) and returns the families in input order.
func parseStdin() []*dto.MetricFamily {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		exit(1, "read stdin: %v", err)
	}
	var p expfmt.TextParser
	byName, err := p.TextToMetricFamilies(bytes.NewReader(in))
	if err != nil {
		exit(1, "parse error: %v", err)
	}
	rank := firstAppearance(in)
	mfs := make([]*dto.MetricFamily, 0, len(byName))
	for _, mf := range byName {
		mfs = append(mfs, mf)
	}
	sort.Slice(mfs, func(i, j int) bool {
		ri, iok := rank[mfs[i].GetName()]
		rj, jok := rank[mfs[j].GetName()]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok: // unranked families (none expected) go last
			return iok
		default:
			return mfs[i].GetName() < mfs[j].GetName()
		}
	})
	return mfs
}

// firstAppearance gives each family name the index of the line that created it.
// TextToMetricFamilies returns a map, so the order is recovered by replaying the
// parser's own rule (setOrCreateCurrentMF in expfmt/text_parse.go) over the
// lines: a name files under an existing family of that exact name; else under
// an existing summary it is the _count/_sum of, or an existing histogram it is
// the _count/_sum/_bucket of; else it creates a family. The type a family has
// at that point is the one its TYPE line set before it, as in the parser. Only
// called on input that parsed, so the lines are well formed.
func firstAppearance(in []byte) map[string]int {
	rank := map[string]int{}
	typ := map[string]string{}
	for i, line := range bytes.Split(in, []byte("\n")) {
		name, isType, rest := lineName(string(line))
		if name == "" {
			continue
		}
		family := name
		if _, ok := rank[name]; !ok {
			family = ""
			for _, c := range []struct{ suffixes, kind string }{
				{"_count _sum", "summary"},
				{"_count _sum _bucket", "histogram"},
			} {
				for _, s := range strings.Fields(c.suffixes) {
					base := strings.TrimSuffix(name, s)
					if family == "" && base != name && typ[base] == c.kind {
						family = base
					}
				}
			}
			if family == "" {
				family = name
				rank[name] = i
			}
		}
		if isType {
			if f := strings.Fields(rest); len(f) > 0 && typ[family] == "" {
				typ[family] = f[0]
			}
		}
	}
	return rank
}

// lineName returns the metric name a line is filed under by the parser ("" for
// blank lines and plain comments), whether the line is a TYPE line, and the
// rest of the line after the name.
func lineName(line string) (name string, isType bool, rest string) {
	line = strings.TrimLeft(line, " \t")
	if strings.HasPrefix(line, "#") {
		line = strings.TrimLeft(line[1:], " \t")
		keyword := line[:strings.IndexAny(line+" ", " \t")]
		if keyword != "HELP" && keyword != "TYPE" {
			return "", false, ""
		}
		isType = keyword == "TYPE"
		line = strings.TrimLeft(line[len(keyword):], " \t")
		name, rest = splitName(line)
		if !strings.HasPrefix(rest, " ") && !strings.HasPrefix(rest, "\t") {
			return "", false, "" // "# HELP name" alone creates no family
		}
		return name, isType, rest
	}
	name, rest = splitName(line)
	return name, false, rest
}

// splitName splits a leading metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) off s.
func splitName(s string) (string, string) {
	n := 0
	for n < len(s) {
		b := s[n]
		if b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '_' || b == ':' || n > 0 && b >= '0' && b <= '9' {
			n++
			continue
		}
		break
	}
	return s[:n], s[n:]
}

// decodeProtobuf reads length-delimited MetricFamily messages, as Prometheus
// reads them from a scrape answered with
// application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited.
func decodeProtobuf(r io.Reader) []*dto.MetricFamily {
	dec := expfmt.NewDecoder(r, expfmt.FmtProtoDelim)
	var mfs []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			return mfs
		}
		if err != nil {
			exit(1, "decode error: message %d: %v", len(mfs)+1, err)
		}
		mfs = append(mfs, mf)
	}
}

// goldenRegistry builds the registry documented at the top of this file.
func goldenRegistry() *prometheus.Registry {
	const normMean, normDomain = 200.0, 40.0
	completion := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "completion_duration_histogram_ms",
		Help:    "Latency for mapping completion in ms",
		Buckets: prometheus.LinearBuckets(normMean-5*normDomain, 0.5*normDomain, 20),
	})
	for _, v := range []float64{0, 12.5, 20, 187.25, 200, 233.3, 380, 512} {
		completion.Observe(v)
	}

	success := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "success_counter",
		Help: "Count of successful mapping completions",
	})
	for i := 0; i < 6; i++ {
		success.Inc()
	}
	failure := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "failure_counter",
		Help: "Count of failed mapping completions",
	})
	for i := 0; i < 2; i++ {
		failure.Inc()
	}

	escapes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "escape_test_total",
		Help: "Label values that need escaping",
	}, []string{"value", "case"})
	escapeRows := []struct {
		kase, value string
		n           float64
	}{
		{"backslash", `a\b`, 1},
		{"quote", `say "hi"`, 2},
		{"newline", "line1\nline2", 3},
		{"tab", "a\tb", 4},
		{"unicode", "ü ✓ 日本 🙂", 5},
		{"empty", "", 6},
	}
	for _, r := range escapeRows {
		escapes.WithLabelValues(r.value, r.kase).Add(r.n)
	}

	floats := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "float_format_test",
		Help: "Gauge values that test float formatting",
	}, []string{"case"})
	floatRows := []struct {
		kase string
		v    float64
	}{
		{"zero", 0},
		{"neg_zero", math.Copysign(0, -1)},
		{"small", 1e-05},
		{"million", 1e+06},
		{"int", 123456789},
		{"huge", 1.5e300},
		{"nan", math.NaN()},
		{"pos_inf", math.Inf(1)},
		{"neg_inf", math.Inf(-1)},
	}
	for _, r := range floatRows {
		floats.WithLabelValues(r.kase).Set(r.v)
	}

	requests := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "request_duration_seconds",
		Help:    "Exponential-bucket histogram",
		Buckets: prometheus.ExponentialBuckets(0.001, 10, 7),
	})
	for _, v := range []float64{0.0005, 0.001, 0.0042, 0.5, 3, 75, 2500} {
		requests.Observe(v)
	}

	payload := prometheus.NewSummary(prometheus.SummaryOpts{
		Name:       "payload_size_bytes",
		Help:       "Summary with objectives",
		Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001},
	})
	for _, v := range []float64{1.5, 2, 3.25, 4, 10, 0.25, 7} {
		payload.Observe(v)
	}

	help := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "help_escape_test",
		Help: `Help with a backslash \ a "quote" and a` + "\n" + `newline`,
	})
	help.Set(42)

	reg := prometheus.NewRegistry()
	reg.MustRegister(completion, success, failure, escapes, floats, requests, payload, help)
	return reg
}

// nativeObservations are observed, in this order, into every histogram of
// nativeRegistry; another implementation replays them to compare bucket math.
// They include zero, values inside the default zero threshold (2^-128), exact
// bucket boundaries (powers of two, sqrt(2)), subnormals, negatives, huge
// values, and the infinities (NaN is left out: Go skips it for native buckets
// but it makes the sum NaN, which hides the comparison).
var nativeObservations = []float64{
	0, 1e-40, -1e-40, 1, 2, 1.5, 0.5, -1, -3.7, 100, 0.001, 1e300, -1e300,
	math.Sqrt2, 1.4142135623730951, 0.7071067811865475, 5e-324, 1e-310,
	math.MaxFloat64, math.Inf(1), math.Inf(-1), 3, 3, 3, 42.5, 1024, 1025,
}

// nativeFactors are the bucket factors of the histograms in nativeRegistry,
// named native_<i>: schemas 3, 0, 8, -2 and 1.
var nativeFactors = []float64{1.1, 2, 1.0001, 16, 1.5}

// nativeRegistry holds native-only histograms (no classic buckets, default
// zero threshold, no bucket limit) with the nativeObservations.
func nativeRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	for i, f := range nativeFactors {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:                        fmt.Sprintf("native_%d", i),
			Help:                        "Native histogram oracle.",
			NativeHistogramBucketFactor: f,
		})
		for _, v := range nativeObservations {
			h.Observe(v)
		}
		reg.MustRegister(h)
	}
	return reg
}

// describeNative prints one line per histogram with its native fields, in a
// form both implementations can produce.
func describeNative(w io.Writer, mfs []*dto.MetricFamily) {
	spans := func(ss []*dto.BucketSpan, ds []int64) string {
		var parts []string
		for _, s := range ss {
			parts = append(parts, fmt.Sprintf("%d:%d", s.GetOffset(), s.GetLength()))
		}
		var deltas []string
		for _, d := range ds {
			deltas = append(deltas, fmt.Sprint(d))
		}
		return strings.Join(parts, ",") + "/" + strings.Join(deltas, ",")
	}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			h := m.GetHistogram()
			if h == nil {
				continue
			}
			fmt.Fprintf(w, "%s schema=%d zero_threshold=%g zero_count=%d count=%d sum=%g pos=%s neg=%s\n",
				mf.GetName(), h.GetSchema(), h.GetZeroThreshold(), h.GetZeroCount(), h.GetSampleCount(),
				h.GetSampleSum(), spans(h.PositiveSpan, h.PositiveDelta), spans(h.NegativeSpan, h.NegativeDelta))
		}
	}
}

// emptyRegistry builds the empty-families registry documented at the top of this file.
func emptyRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	empty := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "empty_total", Help: "Never had a series"}, []string{"kind"})
	deleted := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "deleted_total", Help: "Every series deleted"}, []string{"kind"})
	buckets := []float64{0.1, 1}
	emptyH := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "empty_seconds", Help: "Empty histogram vec", Buckets: buckets}, []string{"route"})
	usedH := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "used_seconds", Help: "Used histogram vec", Buckets: buckets}, []string{"route"})
	plain := prometheus.NewCounter(prometheus.CounterOpts{Name: "plain_total", Help: "Unlabelled"})
	reg.MustRegister(empty, deleted, emptyH, usedH, plain)
	deleted.WithLabelValues("a").Inc()
	deleted.DeleteLabelValues("a")
	usedH.WithLabelValues("/a").Observe(0.5)
	return reg
}

// describeFamilies prints each family's dto type and each series' labels and values, so a
// test can check the types Go read (GAUGE_HISTOGRAM has no text encoder in this version).
func describeFamilies(out io.Writer, mfs []*dto.MetricFamily) {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, mf := range mfs {
		fmt.Fprintf(out, "%s %s\n", mf.GetName(), mf.GetType())
		for _, m := range mf.Metric {
			labels := make([]string, 0, len(m.Label))
			for _, l := range m.Label {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			fmt.Fprintf(out, "  {%s}", strings.Join(labels, ","))
			switch {
			case m.Gauge != nil:
				fmt.Fprintf(out, " gauge %s", g(m.Gauge.GetValue()))
			case m.Counter != nil:
				fmt.Fprintf(out, " counter %s", g(m.Counter.GetValue()))
			case m.Untyped != nil:
				fmt.Fprintf(out, " untyped %s", g(m.Untyped.GetValue()))
			case m.Histogram != nil:
				h := m.Histogram
				buckets := make([]string, 0, len(h.Bucket))
				for _, b := range h.Bucket {
					buckets = append(buckets, fmt.Sprintf("%s:%d", g(b.GetUpperBound()), b.GetCumulativeCount()))
				}
				fmt.Fprintf(out, " histogram count=%d sum=%s buckets=%s", h.GetSampleCount(), g(h.GetSampleSum()), strings.Join(buckets, ","))
			case m.Summary != nil:
				fmt.Fprintf(out, " summary count=%d sum=%s", m.Summary.GetSampleCount(), g(m.Summary.GetSampleSum()))
			}
			fmt.Fprintln(out)
		}
	}
}
