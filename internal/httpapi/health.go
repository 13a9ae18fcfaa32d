package httpapi

import (
	_ "embed"
	"net/http"
	"strconv"

	"github.com/costexplorer/costexplorer"
)

// openAPIDocument is the project's own OpenAPI 3 description of everything
// this server serves.
//
//go:embed openapi.yaml
var openAPIDocument []byte

// OpenAPI returns the embedded OpenAPI document (for tests and tools).
func OpenAPI() []byte { return append([]byte(nil), openAPIDocument...) }

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/yaml")
	h.Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(openAPIDocument)
	}
}

type healthStatus struct {
	Status string `json:"status"`
}

// healthz answers 200 while the process serves HTTP (liveness).
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	writeBody(w, http.StatusOK, healthStatus{"ok"}, false)
}

// readyz answers 200 when Config.Ready passes (the database answers, the
// engine has loaded), 503 SERVICE_UNAVAILABLE otherwise (readiness).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(r.Context()); err != nil {
			// The cause is for the operator only: the answer says nothing
			// about the database.
			s.cfg.Logger.WarnContext(r.Context(), "not ready", "err", err)
			WriteError(w, r, &costexplorer.Error{Code: costexplorer.ErrUnavailable, Detail: "The server is not ready.", Err: err})
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	writeBody(w, http.StatusOK, healthStatus{"ready"}, false)
}
