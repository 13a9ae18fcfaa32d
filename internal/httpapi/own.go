package httpapi

import (
	"mime"
	"net/http"
	"strings"

	"github.com/costexplorer/costexplorer"
)

// The project's own API, under /api/costexplorer/v1 (DESIGN §5.5), is not
// Atlas's: its operations go through the same steps (authentication,
// billing roles, organization authorization, rate limits, body limits, the
// one error writer) but speak plain media types rather than Atlas's
// versioned ones. The version is in the path.
//
//   - Accept: application/json (also a missing header, */* and
//     application/*) for JSON, text/csv (also text/*) for CSV where the
//     operation has it; the highest q wins, JSON at equal q. Nothing
//     acceptable: 406 INVALID_VERSION_DATE, Atlas's code for "Invalid
//     accept header or version date".
//   - Content-Type of a body: application/json, charset UTF-8 if any;
//     anything else 415.
//   - Answers: application/json; charset=utf-8 and text/csv; charset=utf-8.
//     ?pretty=true indents JSON; ?envelope=true wraps JSON as Atlas does.

// ownPrefix starts every path of the project's own API.
const ownPrefix = "/api/costexplorer/v1/"

// The success media types of the project's own API.
const (
	ownJSON = "application/json; charset=utf-8"
	ownCSV  = "text/csv; charset=utf-8"
)

// negotiateOwn resolves Accept for an operation of the project's own API.
func negotiateOwn(accept []string, csvAllowed bool) (negotiation, error) {
	if len(accept) == 0 {
		return negotiation{format: formatJSON}, nil
	}
	best, bestQ, found := negotiation{}, -1.0, false
	for mt, q := range acceptItems(accept) {
		var f format
		switch mt {
		case "application/json", "application/*", "*/*":
			f = formatJSON
		case "text/csv", "text/*":
			if !csvAllowed {
				continue
			}
			f = formatCSV
		default:
			continue
		}
		if q > bestQ || (q == bestQ && f == formatJSON) {
			best, bestQ, found = negotiation{format: f}, q, true
		}
	}
	if !found {
		what := "application/json"
		if csvAllowed {
			what += " or text/csv"
		}
		return negotiation{}, costexplorer.Errorf(costexplorer.ErrInvalidVersionDate, "Invalid accept header: this operation answers %s.", what)
	}
	return best, nil
}

// checkOwnContentType accepts application/json with an optional UTF-8
// charset.
func checkOwnContentType(ct string) error {
	if ct == "" {
		return costexplorer.Errorf(costexplorer.ErrUnsupportedMediaType, "Missing Content-Type: send application/json.")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return costexplorer.Errorf(costexplorer.ErrUnsupportedMediaType, "Malformed Content-Type %q.", ct)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return costexplorer.Errorf(costexplorer.ErrUnsupportedMediaType, "Unsupported charset %q: request bodies are UTF-8.", cs)
	}
	if mt != "application/json" {
		return costexplorer.Errorf(costexplorer.ErrUnsupportedMediaType, "Unsupported Content-Type %q: send application/json.", mt)
	}
	return nil
}

// ownJSONReply is a JSON answer of the project's own API: v with status,
// wrapped as {"status": N, "content": …} with ?envelope=true (status line
// 200).
type ownJSONReply struct {
	status int
	v      any
}

func (o ownJSONReply) write(w http.ResponseWriter, c *call) {
	v, status := o.v, o.status
	if c.envelope {
		v, status = envelope{Status: status, Content: v}, http.StatusOK
	}
	w.Header().Set("Content-Type", ownJSON)
	writeBody(w, status, v, c.pretty)
}
