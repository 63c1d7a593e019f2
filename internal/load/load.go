// Package load reads the documents named on the command line — bulwark.yaml, apps.yaml, IaC files
// and folders, Sigma rule files and folders — and hands their bytes to the parsers of config,
// apps, iac and sigma, which read no files themselves (internal/archtest holds them to it). It is
// the only place those inputs meet the file system; the embedded demo reads the same parsers from
// an fs.FS.
package load

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/apps"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/internal/fileinfo"
	"github.com/bulwarkhq/bulwark/internal/iac"
	"github.com/bulwarkhq/bulwark/sigma"
)

// regular refuses what would be read forever or block (a device, a named pipe), as every reader of
// Bulwark does: only regular files, and folders where a folder is allowed.
func regular(what, path string, folderOK bool) error {
	info, err := os.Stat(path)
	if err != nil {
		return nil // the read that follows says what is wrong
	}
	if info.Mode().IsRegular() || folderOK && info.IsDir() {
		return nil
	}
	return fmt.Errorf("read %s %s: %s, not a regular file", what, path, fileinfo.Kind(info.Mode()))
}

// Config reads bulwark.yaml at path over the defaults. Unknown keys are errors naming the line.
func Config(path string) (config.Config, error) {
	if err := regular("settings", path, false); err != nil {
		return config.Config{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return config.Config{}, fmt.Errorf("read settings: %w", err)
	}
	defer f.Close()
	c, err := config.Parse(f)
	if err != nil {
		return config.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Apps reads and validates apps.yaml; relative IaC folders in it resolve against its folder.
func Apps(path string) (*apps.File, error) {
	if err := regular("applications", path, false); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read applications: %w", err)
	}
	f, err := apps.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.Dir = filepath.Dir(path)
	return f, nil
}

// IaC reads files and folders (*.json, *.tfstate recursively; folders starting with a dot are
// skipped).
func IaC(paths []string) (*iac.Inventory, error) {
	inv := &iac.Inventory{}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("read IaC: %w", err)
		}
		if !info.IsDir() {
			if err := regular("IaC", p, false); err != nil {
				return nil, err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("read IaC: %w", err)
			}
			if err := inv.Add(p, data); err != nil {
				return nil, err
			}
			continue
		}
		if err := inv.AddFS(os.DirFS(p), ".", func(rel string) string { return filepath.Join(p, filepath.FromSlash(rel)) }); err != nil {
			return nil, err
		}
	}
	return inv, nil
}

// Rules parses every .yml and .yaml file below the given paths (files, or folders walked in
// lexical order, folders starting with a dot skipped). A path or file that cannot be read is an
// error naming it; the others are still read.
func Rules(paths ...string) ([]*sigma.Rule, sigma.Errors) {
	var rules []*sigma.Rule
	var errs sigma.Errors
	for _, p := range paths {
		err := filepath.WalkDir(p, func(f string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, &sigma.Error{File: f, Msg: err.Error()})
				return nil
			}
			if d.IsDir() {
				if f != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			n := strings.ToLower(d.Name())
			if !strings.HasSuffix(n, ".yml") && !strings.HasSuffix(n, ".yaml") && f != p {
				return nil
			}
			if err := regular("rules", f, false); err != nil {
				errs = append(errs, &sigma.Error{File: f, Msg: err.Error()})
				return nil
			}
			data, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, &sigma.Error{File: f, Msg: err.Error()})
				return nil
			}
			rs, es := sigma.ParseRules(f, data)
			rules = append(rules, rs...)
			errs = append(errs, es...)
			return nil
		})
		if err != nil {
			errs = append(errs, &sigma.Error{File: p, Msg: err.Error()})
		}
	}
	return rules, errs
}
