package config

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func fakeEnv(vars map[string]string, files map[string]string) Env {
	return Env{
		Getenv: func(k string) string { return vars[k] },
		ReadFile: func(p string) ([]byte, error) {
			if s, ok := files[p]; ok {
				return []byte(s), nil
			}
			return nil, fs.ErrNotExist
		},
		HomeDir: "/home/u",
	}
}

const profiles = `
default-profile: prod
profiles:
  prod:
    url: https://mi.example.com/scim/v2
    token-file: ~/prod.token
    ca-file: ~/ca.pem
  local:
    db: /data/local.db
`

func TestResolvePrecedence(t *testing.T) {
	files := map[string]string{
		"/home/u/.config/miscim/config.yaml": profiles,
		"/home/u/prod.token":                 "prod-secret\n",
		"/tmp/flag.token":                    "flag-file-secret",
		"/tmp/env.token":                     "env-file-secret",
	}
	tests := []struct {
		name      string
		flags     Flags
		set       []string
		vars      map[string]string
		wantURL   string
		wantDB    string
		wantToken string
		wantCA    string
	}{
		{name: "default profile from the file", wantURL: "https://mi.example.com/scim/v2", wantDB: "/home/u/.local/share/miscim/miscim.db", wantToken: "prod-secret", wantCA: "/home/u/ca.pem"},
		{name: "env beats profile", vars: map[string]string{EnvURL: "https://env/scim/v2", EnvToken: "env-secret"}, wantURL: "https://env/scim/v2", wantDB: "/home/u/.local/share/miscim/miscim.db", wantToken: "env-secret", wantCA: "/home/u/ca.pem"},
		{name: "flag beats env", flags: Flags{URL: "https://flag/scim/v2", Token: "flag-secret"}, set: []string{"url", "token"},
			vars: map[string]string{EnvURL: "https://env/scim/v2", EnvToken: "env-secret"}, wantURL: "https://flag/scim/v2", wantDB: "/home/u/.local/share/miscim/miscim.db", wantToken: "flag-secret", wantCA: "/home/u/ca.pem"},
		{name: "token file flag", flags: Flags{TokenFile: "/tmp/flag.token"}, set: []string{"token-file"}, wantURL: "https://mi.example.com/scim/v2", wantDB: "/home/u/.local/share/miscim/miscim.db", wantToken: "flag-file-secret", wantCA: "/home/u/ca.pem"},
		{name: "token file env", vars: map[string]string{EnvTokenFile: "/tmp/env.token"}, wantURL: "https://mi.example.com/scim/v2", wantDB: "/home/u/.local/share/miscim/miscim.db", wantToken: "env-file-secret", wantCA: "/home/u/ca.pem"},
		{name: "profile by env", vars: map[string]string{EnvProfile: "local"}, wantDB: "/data/local.db"},
		{name: "profile by flag beats env", flags: Flags{Profile: "local"}, set: []string{"profile"}, vars: map[string]string{EnvProfile: "prod"}, wantDB: "/data/local.db"},
		{name: "db env beats profile", flags: Flags{Profile: "local"}, set: []string{"profile"}, vars: map[string]string{EnvDB: "/env.db"}, wantDB: "/env.db"},
		{name: "XDG data home", flags: Flags{Profile: "local"}, set: []string{"profile"}, vars: map[string]string{"XDG_DATA_HOME": "/xdg"}, wantDB: "/data/local.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.flags
			f.Changed = func(n string) bool {
				for _, s := range tt.set {
					if s == n {
						return true
					}
				}
				return false
			}
			r, err := Resolve(f, fakeEnv(tt.vars, files))
			if err != nil {
				t.Fatal(err)
			}
			if r.URL != tt.wantURL || r.DB != tt.wantDB || r.Token != tt.wantToken || r.CAFile != tt.wantCA {
				t.Errorf("got url=%q db=%q token=%q ca=%q", r.URL, r.DB, r.Token, r.CAFile)
			}
		})
	}
}

func TestResolveWithoutConfigFile(t *testing.T) {
	r, err := Resolve(Flags{}, fakeEnv(map[string]string{"XDG_DATA_HOME": "/xdg"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if r.URL != "" || r.DB != "/xdg/miscim/miscim.db" {
		t.Errorf("defaults: %+v", r)
	}
}

func TestResolveErrors(t *testing.T) {
	files := map[string]string{
		"/c/ok.yaml":   profiles,
		"/c/bad.yaml":  "profiles:\n  x:\n    ulr: typo\n",
		"/c/junk.yaml": "profiles: [",
		"/c/empty.tok": "  \n",
	}
	tests := []struct {
		name  string
		flags Flags
		set   []string
		want  string
	}{
		{"explicit config missing", Flags{Config: "/c/none.yaml"}, []string{"config"}, "read config file /c/none.yaml"},
		{"unknown field", Flags{Config: "/c/bad.yaml"}, []string{"config"}, "config file /c/bad.yaml is not valid"},
		{"broken YAML", Flags{Config: "/c/junk.yaml"}, []string{"config"}, "is not valid"},
		{"unknown profile", Flags{Config: "/c/ok.yaml", Profile: "stage"}, []string{"config", "profile"}, `profile "stage" is not in /c/ok.yaml: known profiles are local, prod`},
		{"missing token file", Flags{Config: "/c/ok.yaml", Profile: "local", TokenFile: "/c/none.tok"}, []string{"config", "profile", "token-file"}, "read token file"},
		{"empty token file", Flags{Config: "/c/ok.yaml", Profile: "local", TokenFile: "/c/empty.tok"}, []string{"config", "profile", "token-file"}, "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.flags
			f.Changed = func(n string) bool {
				for _, s := range tt.set {
					if s == n {
						return true
					}
				}
				return false
			}
			_, err := Resolve(f, fakeEnv(nil, files))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("want *config.Error, got %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}
