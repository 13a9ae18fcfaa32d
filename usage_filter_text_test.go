package costexplorer

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseFilterText(t *testing.T) {
	leaf := func(d string, in ...string) *Filter {
		return &Filter{Dimension: Dimension(d), In: in}
	}
	absent := func(d string) *Filter {
		return &Filter{Dimension: Dimension(d), Absent: true}
	}
	not := func(f *Filter) *Filter { return &Filter{Not: f} }
	tests := []struct {
		name, in string
		want     *Filter
		err      string
	}{
		{"OK_Tag", "tag:environment=production", leaf("tag:environment", "production"), ""},
		{"OK_Values", " services = Clusters, Backup ", leaf("services", "Clusters", "Backup"), ""},
		{"OK_Singular", "project=0123456789abcdef01234567", leaf("projects", "0123456789abcdef01234567"), ""},
		{"OK_NotIn", "tag:team!=payments", not(leaf("tag:team", "payments")), ""},
		{"OK_Absent", "clusters=", absent("clusters"), ""},
		{"OK_Present", "tag:team!=", not(absent("tag:team")), ""},
		{"OK_And", "tag:environment=production AND services=Clusters and tag:team!=", &Filter{And: []*Filter{
			leaf("tag:environment", "production"), leaf("services", "Clusters"), not(absent("tag:team"))}}, ""},
		{"OK_ValueWithSpaces", "services=Data Transfer", leaf("services", "Data Transfer"), ""},
		{"OK_JSON", `{"or":[{"dimension":"tag:team","in":["a"]},{"dimension":"tag:team","absent":true}]}`,
			&Filter{Or: []*Filter{leaf("tag:team", "a"), absent("tag:team")}}, ""},
		{"ErrNoEquals", "tag:team", nil, "has no ="},
		{"ErrUnknownDimension", "region=eu", nil, `unknown dimension "region"`},
		{"ErrEmptyTagKey", "tag:=x", nil, "unknown dimension"},
		{"ErrEmptyValue", "services=Clusters,,Backup", nil, "empty value"},
		{"ErrEmptyCondition", "services=Clusters and ", nil, "empty condition"},
		{"ErrDanglingAnd", "and services=Clusters", nil, "empty condition"},
		{"ErrAndAnd", "services=Clusters and and tag:team=", nil, "empty condition"},
		{"ErrJSONUnknownField", `{"dimension":"skus","equals":"x"}`, nil, "unknown field"},
		{"ErrJSONShape", `{"and":[]}`, nil, "filter.and is empty"},
		{"ErrJSONTrailing", `{"dimension":"skus","absent":true} {}`, nil, "unexpected data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFilterText(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(tt.want)
				t.Errorf("= %s, want %s", g, w)
			}
		})
	}
}

// FuzzParseFilterText checks that the --filter parser never panics and
// that whatever it accepts is a filter of a valid shape.
func FuzzParseFilterText(f *testing.F) {
	for _, s := range []string{"tag:environment=production and services=Clusters,Backup", "tag:team!=", "clusters=",
		`{"not":{"dimension":"skus","in":["X"]}}`, "a=b and and c=d", "=", "!=", "tag:=", `{"and":[{}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseFilterText(s)
		if err != nil {
			return
		}
		if err := e.Validate(MaxFilterDepth, DefaultMaxFilterValues+1); err != nil && !strings.HasPrefix(strings.TrimSpace(s), "{") {
			t.Fatalf("%q parsed to a filter Validate refuses: %v", s, err)
		}
	})
}
