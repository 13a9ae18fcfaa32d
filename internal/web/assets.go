package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
)

// files holds the templates and the static assets, embedded in the binary.
//
//go:embed templates static
var files embed.FS

// chartTemplate renders the chart SVG. It is parsed once, and a broken
// template stops the program at start rather than on the first chart.
var chartTemplate = template.Must(template.ParseFS(files, "templates/chart.svg"))

// asset is one embedded static file with its validator.
type asset struct {
	body        []byte
	contentType string
	etag        string
	version     string // the first hex digits of its hash, for cache-busting URLs
}

// contentTypes are the types of the static assets, fixed here rather than
// taken from the system's MIME tables, which vary between machines.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

// loadStatic reads the static assets.
func loadStatic() (map[string]asset, error) {
	out := map[string]asset{}
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		v := hex.EncodeToString(sum[:])[:12]
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return fmt.Errorf("static asset %s: no content type for its extension", p)
		}
		out[path.Base(p)] = asset{body: b, contentType: ct, etag: `"` + v + `"`, version: v}
		return nil
	})
	return out, err
}

// staticURL returns the address of an asset with its version, so that a
// new binary's assets are never taken from an old cache.
func (s *Server) staticURL(name string) string {
	return "/static/" + name + "?v=" + s.static[name].version
}

// serveStatic serves GET /static/{file}. Versioned URLs are immutable.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	a, ok := s.static[r.PathValue("file")]
	if !ok {
		s.renderMessage(w, r, http.StatusNotFound, "Page not found", "There is no page at "+r.URL.Path+".", nil)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	if r.URL.Query().Get("v") == a.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if match := r.Header.Get("If-None-Match"); match == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.body)
	}
}

// parseTemplates parses the page templates with the helpers they use.
func parseTemplates(s *Server) (*template.Template, error) {
	return template.New("").Funcs(template.FuncMap{
		"static": s.staticURL,
	}).ParseFS(files, "templates/*.html")
}
