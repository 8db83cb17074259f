// Command helm-oracle is the differential-test oracle for skiff's Go text/template engine:
// the real text/template with sprig v3 and Helm 3's template functions, compiled to
// WebAssembly (scripts/build-template-oracle.sh) and driven from Node (test/helm/oracle.ts).
//
// It registers one JavaScript function, skiffTemplateOracle(requestsJSON) → resultsJSON,
// that renders a batch of requests synchronously.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall/js"
	"text/template"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

// request is one render: templates are parsed in the given order (as Helm parses its
// sorted template list), then entry is executed with data.
type request struct {
	Templates [][2]string     `json:"templates"`
	Entry     string          `json:"entry"`
	Data      json.RawMessage `json:"data"`
	// Mode: "text" (missingkey=default), "helm" (missingkey=zero and "<no value>" removed
	// from the output, as Helm's engine does), "helm-strict" (missingkey=error).
	Mode string `json:"mode"`
	// Funcs: "none" (builtins and the t_ test functions) or "helm" (plus sprig and Helm's).
	// Defaults to "none" in text mode and "helm" otherwise.
	Funcs string `json:"funcs"`
	// Root names the template set (Helm's is "gotpl"); default: the first template's name.
	Root string `json:"root"`
}

type result struct {
	Output *string `json:"output,omitempty"`
	Error  *string `json:"error,omitempty"`
}

func main() {
	// Renders are short-lived; fewer collections make a batch several times faster in wasm.
	debug.SetGCPercent(800)
	js.Global().Set("skiffTemplateOracle", js.FuncOf(func(this js.Value, args []js.Value) any {
		var reqs []request
		if err := json.Unmarshal([]byte(args[0].String()), &reqs); err != nil {
			return `{"fatal":` + quote(err.Error()) + `}`
		}
		results := make([]result, len(reqs))
		for i := range reqs {
			results[i] = renderSafely(&reqs[i])
		}
		out, err := json.Marshal(results)
		if err != nil {
			return `{"fatal":` + quote(err.Error()) + `}`
		}
		return string(out)
	}))
	select {}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func renderSafely(r *request) (res result) {
	defer func() {
		if p := recover(); p != nil {
			msg := fmt.Sprintf("panic: %v", p)
			res = result{Error: &msg}
		}
	}()
	out, err := render(r)
	if err != nil {
		msg := err.Error()
		return result{Error: &msg}
	}
	return result{Output: &out}
}

func render(r *request) (string, error) {
	var data interface{}
	if len(r.Data) > 0 {
		if err := json.Unmarshal(r.Data, &data); err != nil {
			return "", fmt.Errorf("oracle: bad data: %w", err)
		}
	}
	data = decodeTyped(data)
	mode := r.Mode
	if mode == "" {
		mode = "text"
	}
	funcs := r.Funcs
	if funcs != "" && funcs != "none" && funcs != "helm" {
		return "", fmt.Errorf("oracle: unknown funcs %q", funcs)
	}
	if funcs == "" {
		if mode == "text" {
			funcs = "none"
		} else {
			funcs = "helm"
		}
	}
	if len(r.Templates) == 0 {
		return "", errors.New("oracle: no templates")
	}
	base, err := bases[funcs].Clone()
	if err != nil {
		return "", err
	}
	root := r.Root
	if root == "" {
		root = r.Templates[0][0]
	}
	t := base.New(root)
	switch mode {
	case "text":
	case "helm":
		t.Option("missingkey=zero")
	case "helm-strict":
		t.Option("missingkey=error")
	default:
		return "", fmt.Errorf("oracle: unknown mode %q", mode)
	}
	if funcs == "helm" {
		included := map[string]int{}
		t.Funcs(template.FuncMap{
			"include": includeFunc(t, included),
			"tpl":     tplFunc(t, included, mode == "helm-strict"),
		})
	}
	for _, nt := range r.Templates {
		if _, err := t.New(nt[0]).Parse(nt[1]); err != nil {
			return "", err
		}
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, r.Entry, data); err != nil {
		return "", err
	}
	if mode == "helm" {
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	return buf.String(), nil
}

// decodeTyped turns the JSON markers {"$int": "1"}, {"$int64": "1"}, {"$bytes": "base64"}
// into Go int, int64 and []byte, so tests can feed values that do not come from JSON
// (Helm's --set yields int64).
func decodeTyped(v interface{}) interface{} {
	switch x := v.(type) {
	case map[string]interface{}:
		if len(x) == 1 {
			for k, raw := range x {
				s, ok := raw.(string)
				if !ok {
					break
				}
				switch k {
				case "$int":
					n, _ := strconv.ParseInt(s, 10, 64)
					return int(n)
				case "$int64":
					n, _ := strconv.ParseInt(s, 10, 64)
					return n
				case "$bytes":
					b, _ := base64.StdEncoding.DecodeString(s)
					return b
				}
			}
		}
		for k, e := range x {
			x[k] = decodeTyped(e)
		}
		return x
	case []interface{}:
		for i, e := range x {
			x[i] = decodeTyped(e)
		}
		return x
	}
	return v
}

// Helm's template functions (helm.sh/helm/v3/pkg/engine), re-implemented here for the
// oracle: sprig without env/expandenv, the YAML/JSON/TOML converters, and the late-bound
// include, tpl, required and fail.
func helmFuncs() template.FuncMap {
	f := template.FuncMap{}
	for k, v := range sprigFuncs {
		f[k] = v
	}
	f["toToml"] = func(v interface{}) string {
		var b bytes.Buffer
		if err := toml.NewEncoder(&b).Encode(v); err != nil {
			return err.Error()
		}
		return b.String()
	}
	f["toYaml"] = func(v interface{}) string {
		out, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(out), "\n")
	}
	f["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["fromYamlArray"] = func(s string) []interface{} {
		a := []interface{}{}
		if err := yaml.Unmarshal([]byte(s), &a); err != nil {
			a = []interface{}{err.Error()}
		}
		return a
	}
	f["toJson"] = func(v interface{}) string {
		out, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(out)
	}
	f["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["fromJsonArray"] = func(s string) []interface{} {
		a := []interface{}{}
		if err := json.Unmarshal([]byte(s), &a); err != nil {
			a = []interface{}{err.Error()}
		}
		return a
	}
	f["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(helmErr(msg))
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(helmErr(msg))
		}
		return v, nil
	}
	f["fail"] = func(msg string) (string, error) {
		return "", errors.New(helmErr(msg))
	}
	f["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	// Placeholders until each render binds them to its own template set.
	f["include"] = func(string, interface{}) (string, error) { return "", nil }
	f["tpl"] = func(string, interface{}) (string, error) { return "", nil }
	return f
}

// bases hold the function sets, parsed once; each render clones one (Clone copies the
// function tables without reflecting on every function again).
var bases = map[string]*template.Template{
	"none": template.New("base").Funcs(testFuncMap),
	"helm": template.New("base").Funcs(testFuncMap).Funcs(helmFuncs()),
}

// sprigFuncs is sprig's map without env/expandenv, as Helm removes them; built once.
var sprigFuncs = func() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	return f
}()

// helmErr wraps a required/fail message in the markers Helm's engine strips when it
// reports the error.
func helmErr(msg string) string { return "HELM_ERR_START" + msg + "HELM_ERR_END" }

// maxIncludeDepth is how often one name may be nested in include before Helm gives up.
const maxIncludeDepth = 1000

func includeFunc(t *template.Template, included map[string]int) func(string, interface{}) (string, error) {
	return func(name string, data interface{}) (string, error) {
		if included[name] > maxIncludeDepth {
			return "", fmt.Errorf("rendering template has a nested reference name: %s: unable to execute template", name)
		}
		included[name]++
		defer func() { included[name]-- }()
		var buf strings.Builder
		err := t.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
}

func tplFunc(parent *template.Template, included map[string]int, strict bool) func(string, interface{}) (string, error) {
	return func(text string, data interface{}) (string, error) {
		t, err := parent.Clone()
		if err != nil {
			return "", fmt.Errorf("cannot clone template: %w", err)
		}
		// Clone loses the missingkey option (golang/go#43022); Helm sets it again.
		if strict {
			t.Option("missingkey=error")
		} else {
			t.Option("missingkey=zero")
		}
		t.Funcs(template.FuncMap{
			"include": includeFunc(t, included),
			"tpl":     tplFunc(t, included, strict),
		})
		t, err = t.New(parent.Name()).Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %w", text, err)
		}
		var buf strings.Builder
		if err := t.Execute(&buf, data); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
}

// Test functions with typed signatures, so the engine's argument conversion, error
// results and struct/method access can be compared with Go's reflection.

type Inner struct {
	Value string
	Num   int
}

func (i Inner) Hello(name string) string { return "hello " + name + " from " + i.Value }

type Thing struct {
	Name   string
	Count  int
	Ratio  float64
	On     bool
	Tags   []string
	Labels map[string]string
	Inner  Inner
	Ptr    *Inner
	Nil    *Inner
	Any    interface{}
}

func (t *Thing) Upper() string                           { return strings.ToUpper(t.Name) }
func (t *Thing) Add(a, b int) int                        { return a + b }
func (t *Thing) Fail() (string, error)                   { return "", errors.New("thing failed") }
func (t *Thing) Join(sep string, parts ...string) string { return strings.Join(parts, sep) }

// testFuncMap is built once: Funcs copies it into each template set.
var testFuncMap = testFuncs()

func testFuncs() template.FuncMap {
	return template.FuncMap{
		"t_int":    func(i int) int { return i * 2 },
		"t_int64":  func(i int64) int64 { return i + 1 },
		"t_uint32": func(i uint32) uint32 { return i },
		"t_float":  func(f float64) float64 { return f / 2 },
		"t_str":    func(s string) string { return "<" + s + ">" },
		"t_bool":   func(b bool) bool { return !b },
		"t_any":    func(v interface{}) string { return fmt.Sprintf("%T", v) },
		"t_strs":   func(s []string) string { return strings.Join(s, "+") },
		"t_list":   func(l []interface{}) int { return len(l) },
		"t_map": func(m map[string]interface{}) string {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			return strings.Join(keys, ",")
		},
		"t_bytes": func(s string) []byte { return []byte(s) },
		"t_err": func(s string) (string, error) {
			if s == "" {
				return "ok", nil
			}
			return "", errors.New(s)
		},
		"t_vari":    func(prefix string, n ...int) string { return fmt.Sprint(prefix, n) },
		"t_varany":  func(v ...interface{}) int { return len(v) },
		"t_nilmap":  func() map[string]interface{} { return nil },
		"t_nil":     func() interface{} { return nil },
		"t_toint64": func(f float64) int64 { return int64(f) },
		"t_touint":  func(f float64) uint { return uint(f) },
		"t_toint":   func(f float64) int { return int(f) },
		"t_tof32":   func(f float64) float32 { return float32(f) },
		"t_fn":      func() func(string) string { return func(s string) string { return "fn:" + s } },
		"t_fnerr":   func() func() (int, error) { return func() (int, error) { return 0, errors.New("fn failed") } },
		"t_thing": func() *Thing {
			return &Thing{Name: "widget", Count: 3, Ratio: 0.5, On: true, Tags: []string{"a", "b"},
				Labels: map[string]string{"z": "1", "a": "2"}, Inner: Inner{Value: "in", Num: 7}, Ptr: &Inner{Value: "ptr", Num: 8}}
		},
		"t_panic": func() string { panic("boom") },
	}
}
