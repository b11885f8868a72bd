//go:build ignore

// modproxy lays out a Go module proxy (the layout GOPROXY=file://DIR reads)
// holding every published module of a source tree at one version, as the
// module proxy would serve them from tags of that version. It is the first
// half of .ci/release-check.sh:
//
//	go run .ci/modproxy.go -src DIR -version v0.1.0 -out PROXYDIR
//	go run .ci/modproxy.go -src DIR -list
//
// It prints the published modules, one per line: the module path, a tab,
// and its folder in the tree (-list only prints them). The modules are the
// go.work file's; those under cmd/, bench/ and examples/ are not published
// (RELEASING.md). Each module's zip holds the files git would commit (git
// ls-files: tracked, or untracked and not ignored) under the module's
// folder, less the folders of nested modules, as the go command's own zips
// do; go.mod files are served as they are, so a require that names a
// version the proxy does not hold fails the check.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
)

func main() {
	src := flag.String("src", ".", "the source tree: a git work tree with a go.work file")
	version := flag.String("version", "", "the version to serve every published module at, such as v0.1.0")
	out := flag.String("out", "", "the proxy folder to create")
	list := flag.Bool("list", false, "only list the published modules")
	flag.Parse()
	if !*list && (*version == "" || *out == "" || !validVersion(*version)) {
		fmt.Fprintln(os.Stderr, "usage: go run .ci/modproxy.go -src DIR (-list | -version vX.Y.Z -out PROXYDIR)")
		os.Exit(2)
	}
	mods, err := published(*src, *version, *out, *list)
	if err != nil {
		fmt.Fprintln(os.Stderr, "modproxy:", err)
		os.Exit(1)
	}
	for _, m := range mods {
		fmt.Println(m)
	}
}

// validVersion accepts vMAJOR.MINOR.PATCH with an optional pre-release.
func validVersion(v string) bool {
	core, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), "-")
	parts := strings.Split(core, ".")
	if !strings.HasPrefix(v, "v") || len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.TrimFunc(p, unicode.IsDigit) != "" || (len(p) > 1 && p[0] == '0') {
			return false
		}
	}
	return true
}

// unpublished reports whether the module in dir (relative to the
// repository, slash-separated) is left out of releases: the demo, the
// benchmarks and the examples are run from a clone, never fetched.
func unpublished(dir string) bool {
	for _, p := range []string{"cmd", "bench", "examples"} {
		if dir == p || strings.HasPrefix(dir, p+"/") {
			return true
		}
	}
	return false
}

// published returns "path\tdir" for each published module, and unless
// listOnly serves each at version in out.
func published(src, version, out string, listOnly bool) ([]string, error) {
	var work struct{ Use []struct{ DiskPath string } }
	if err := goJSON(src, &work, "work", "edit", "-json"); err != nil {
		return nil, err
	}
	files, err := gitFiles(src)
	if err != nil {
		return nil, err
	}
	// Every folder holding a go.mod is a module's root, published or not.
	var roots []string
	for _, f := range files {
		if path.Base(f) == "go.mod" {
			roots = append(roots, path.Dir(f))
		}
	}
	var mods []string
	for _, u := range work.Use {
		dir := path.Clean(filepath.ToSlash(u.DiskPath))
		if unpublished(dir) {
			continue
		}
		gomod, err := os.ReadFile(filepath.Join(src, dir, "go.mod"))
		if err != nil {
			return nil, err
		}
		modPath := modulePath(gomod)
		if modPath == "" {
			return nil, fmt.Errorf("%s/go.mod has no module line", dir)
		}
		if !listOnly {
			if err := serve(src, out, modPath, version, dir, gomod, moduleFiles(files, roots, dir)); err != nil {
				return nil, fmt.Errorf("%s: %w", modPath, err)
			}
		}
		mods = append(mods, modPath+"\t"+dir)
	}
	if len(mods) == 0 {
		return nil, fmt.Errorf("no published module in %s/go.work", src)
	}
	return mods, nil
}

// moduleFiles returns the files of the module rooted at dir: those under it
// and under no deeper module root. Paths are relative to dir.
func moduleFiles(files, roots []string, dir string) []string {
	var out []string
	for _, f := range files {
		rel, ok := strings.CutPrefix(f, dir+"/")
		if dir == "." {
			rel, ok = f, true
		}
		if !ok {
			continue
		}
		nested := slices.ContainsFunc(roots, func(r string) bool {
			return r != dir && (dir == "." || strings.HasPrefix(r, dir+"/")) && strings.HasPrefix(f, r+"/")
		})
		if !nested {
			out = append(out, rel)
		}
	}
	return out
}

// serve writes one module version: list, .info, .mod and .zip.
func serve(src, out, modPath, version, dir string, gomod []byte, files []string) error {
	esc, err := escapePath(modPath)
	if err != nil {
		return err
	}
	base := filepath.Join(out, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for _, rel := range files {
		full := filepath.Join(src, filepath.FromSlash(dir), filepath.FromSlash(rel))
		info, err := os.Lstat(full)
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() { // symbolic links are left out, as the go command does
			continue
		}
		b, err := os.ReadFile(full)
		if err != nil {
			return err
		}
		w, err := zw.Create(modPath + "@" + version + "/" + rel)
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	info, _ := json.Marshal(struct{ Version, Time string }{version, time.Now().UTC().Format(time.RFC3339)})
	for name, data := range map[string][]byte{
		"list":            []byte(version + "\n"),
		version + ".info": info,
		version + ".mod":  gomod,
		version + ".zip":  zbuf.Bytes(),
	} {
		if err := os.WriteFile(filepath.Join(base, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// escapePath is the module proxy's case encoding: each upper-case letter
// becomes '!' and its lower-case form.
func escapePath(p string) (string, error) {
	var b strings.Builder
	for _, r := range p {
		switch {
		case r == '!' || r > unicode.MaxASCII:
			return "", fmt.Errorf("module path %q: unsupported character %q", p, r)
		case unicode.IsUpper(r):
			b.WriteByte('!')
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

func modulePath(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

func gitFiles(src string) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = src
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files in %s: %w", src, err)
	}
	var files []string
	for f := range strings.SplitSeq(strings.TrimSuffix(string(b), "\x00"), "\x00") {
		if _, err := os.Lstat(filepath.Join(src, f)); err == nil { // deleted but still tracked: left out
			files = append(files, f)
		}
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}

func goJSON(dir string, v any, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=") // the go.work file of dir
	b, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go %s in %s: %w", strings.Join(args, " "), dir, err)
	}
	return json.Unmarshal(b, v)
}
