// SPDX-License-Identifier: Apache-2.0

// querycheck checks that Grafana dashboards and Prometheus rules files
// query only metrics (and labels) that a live /metrics page exports.
//
//	querycheck -metrics METRICS.txt [-rules RULES.yaml]... [DASHBOARD.json]...
//
// Every PromQL expression is parsed; each selector's metric name must be a
// family of the page (a histogram's _bucket, _sum and _count included) and
// each label it matches on must appear on that family's series, when the
// page has series for it. Labels a scrape adds (job, instance, namespace,
// pod, ...) are always allowed, and so is "up" (Prometheus writes it).
// Grafana's interval variables are replaced by 5m before parsing. It also
// refuses a dashboard panel that queries nothing. Exit 0: all good; 1: a
// problem was found (each is printed); 2: bad input.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

var scrapeLabels = map[string]bool{
	"__name__": true, "job": true, "instance": true, "namespace": true, "pod": true,
	"service": true, "endpoint": true, "container": true,
}

var promql = parser.NewParser(parser.Options{})

var grafanaInterval = regexp.MustCompile(`\$(__rate_interval|__interval|__range)\b|\$\{(__rate_interval|__interval|__range)\}`)

// exported: metric name -> label names seen on its series (nil: none seen)
type exported map[string]map[string]bool

func readMetrics(path string) (exported, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(fams) == 0 {
		return nil, fmt.Errorf("%s: no metrics in it", path)
	}
	e := exported{"up": nil}
	for name, fam := range fams {
		labels := map[string]bool{}
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = true
			}
		}
		if len(fam.GetMetric()) == 0 {
			labels = nil
		}
		e[name] = labels
		if fam.GetType() == dto.MetricType_HISTOGRAM {
			bucket := map[string]bool{"le": true}
			for l := range labels {
				bucket[l] = true
			}
			if labels == nil {
				bucket = nil
			}
			e[name+"_bucket"] = bucket
			e[name+"_sum"] = labels
			e[name+"_count"] = labels
		}
	}
	return e, nil
}

// check one expression; problems are appended as "where: what"
func (e exported) check(where, expr string, problems *[]string) {
	expr = grafanaInterval.ReplaceAllString(expr, "5m")
	node, err := promql.ParseExpr(expr)
	if err != nil {
		*problems = append(*problems, fmt.Sprintf("%s: does not parse: %v", where, err))
		return
	}
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == "__name__" {
				name = m.Value
			}
		}
		labels, known := e[name]
		if !known {
			*problems = append(*problems, fmt.Sprintf("%s: %q is not exported", where, name))
			return nil
		}
		if labels == nil {
			return nil
		}
		for _, m := range vs.LabelMatchers {
			if !scrapeLabels[m.Name] && !labels[m.Name] {
				*problems = append(*problems, fmt.Sprintf("%s: %s has no label %q", where, name, m.Name))
			}
		}
		return nil
	})
}

type panel struct {
	Title   string  `json:"title"`
	Type    string  `json:"type"`
	Panels  []panel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

func (e exported) checkDashboard(path string, problems *[]string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var d struct {
		Title  string  `json:"title"`
		UID    string  `json:"uid"`
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return fmt.Errorf("%s: not JSON: %w", path, err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		return fmt.Errorf("%s: a dashboard needs a title, a uid and panels", path)
	}
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" || p.Type == "text" {
				continue
			}
			where := fmt.Sprintf("%s: panel %q", path, p.Title)
			n := 0
			for _, t := range p.Targets {
				if strings.TrimSpace(t.Expr) != "" {
					e.check(where, t.Expr, problems)
					n++
				}
			}
			if n == 0 {
				*problems = append(*problems, where+": queries nothing")
			}
		}
	}
	walk(d.Panels)
	return nil
}

func (e exported) checkRules(path string, problems *[]string) error {
	groups, errs := rulefmt.ParseFile(path, false, model.UTF8Validation, promql, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		return fmt.Errorf("%s: %v", path, errs[0])
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			name := r.Alert
			if name == "" {
				name = r.Record
			}
			e.check(fmt.Sprintf("%s: rule %s", path, name), r.Expr, problems)
		}
	}
	return nil
}

func main() {
	var rules multi
	metrics := flag.String("metrics", "", "a /metrics page in the Prometheus text format")
	flag.Var(&rules, "rules", "a Prometheus rules file (repeatable)")
	flag.Parse()
	if *metrics == "" || (len(rules) == 0 && flag.NArg() == 0) {
		fmt.Fprintln(os.Stderr, "usage: querycheck -metrics METRICS.txt [-rules RULES.yaml]... [DASHBOARD.json]...")
		os.Exit(2)
	}
	e, err := readMetrics(*metrics)
	if err != nil {
		fmt.Fprintln(os.Stderr, "querycheck:", err)
		os.Exit(2)
	}
	var problems []string
	for _, r := range rules {
		if err := e.checkRules(r, &problems); err != nil {
			fmt.Fprintln(os.Stderr, "querycheck:", err)
			os.Exit(2)
		}
	}
	for _, d := range flag.Args() {
		if err := e.checkDashboard(d, &problems); err != nil {
			fmt.Fprintln(os.Stderr, "querycheck:", err)
			os.Exit(2)
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		fmt.Println(p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}
