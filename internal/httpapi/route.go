package httpapi

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/costexplorer/costexplorer"
)

// op describes one operation of the route table. An Atlas operation (api
// set) declares its steps and the common wrapper (Server.atlas) runs them;
// any other route (OAuth, health checks, documents) is a plain handler and
// unauthenticated.
type op struct {
	method, path string

	// api answers an Atlas operation once the steps below have passed.
	api apiFunc
	// versions are the versions the operation exists at, oldest first.
	versions []string
	// csv says whether Accept may ask for a CSV body; csvOnly that it
	// must (the operation has no JSON representation).
	csv, csvOnly bool
	// gzip says that the operation answers a gzip file alone
	// (application/vnd.atlas.V+gzip): Accept must ask for it.
	gzip bool
	// sunset is the date (YYYY-MM-DD) after which the operation's preview
	// version may be withdrawn, sent as the Sunset header of its preview
	// answers (the specification's x-sunset).
	sunset string
	// org is what the caller must be to the {orgId} of the path.
	org orgScope
	// params are further path parameters, checked after authorization.
	params []pathParam
	// limit is the rate-limit set the operation belongs to; the bucket is
	// the {orgId}'s, or the caller's organization's when the path names
	// none (the SKU catalogue).
	limit endpointSet
	// body says whether the operation reads a JSON request body.
	body bool
	// own marks an operation of the project's own API (/api/costexplorer/v1,
	// own.go): plain media types instead of versions, the same other steps.
	own bool

	// handler serves a route that is not an Atlas operation.
	handler http.Handler
}

// check reports a route table entry whose steps cannot be right, so that
// New refuses it at once rather than a forgotten step failing silently: an
// Atlas operation needs versions, an {orgId} in its path exactly when it
// has an organization scope (a rate limit is per organization), and a
// check of each further path parameter; a plain route is a handler only.
func (o *op) check() error {
	if o.api == nil {
		if o.handler == nil || o.versions != nil || o.csv || o.csvOnly || o.gzip || o.sunset != "" || o.org != orgNone || o.params != nil || o.limit != "" || o.body {
			return errors.New(o.method + " " + o.path + ": a plain route declares a handler and no steps")
		}
		return nil
	}
	hasOrg := strings.Contains(o.path, "{orgId}")
	switch {
	case o.handler != nil:
		return errors.New(o.method + " " + o.path + ": an Atlas operation has api, not handler")
	case o.own != strings.HasPrefix(o.path, ownPrefix):
		return errors.New(o.method + " " + o.path + ": the project's own operations, and only they, are under " + ownPrefix)
	case o.own && len(o.versions) > 0:
		return errors.New(o.method + " " + o.path + ": the project's own API has no versions")
	case !o.own && len(o.versions) == 0:
		return errors.New(o.method + " " + o.path + ": no versions")
	case o.csvOnly && !o.csv:
		return errors.New(o.method + " " + o.path + ": a CSV-only operation serves CSV")
	case o.gzip && o.csv:
		return errors.New(o.method + " " + o.path + ": a gzip operation serves gzip alone")
	case o.sunset != "" && !slices.Contains(o.versions, vPreview):
		return errors.New(o.method + " " + o.path + ": a sunset is a preview version's")
	case hasOrg != (o.org != orgNone):
		return errors.New(o.method + " " + o.path + ": {orgId} in the path and an organization scope go together")
	}
	for i := 1; i < len(o.versions); i++ {
		if o.versions[i-1] >= o.versions[i] {
			return errors.New(o.method + " " + o.path + ": versions must be listed oldest first")
		}
	}
	declared := map[string]bool{"orgId": true}
	for _, pp := range o.params {
		declared[pp.name] = true
	}
	for rest := o.path; ; {
		_, after, ok := strings.Cut(rest, "{")
		if !ok {
			break
		}
		name, tail, _ := strings.Cut(after, "}")
		if !declared[strings.TrimSuffix(name, "...")] {
			return errors.New(o.method + " " + o.path + ": path parameter {" + name + "} is not checked")
		}
		rest = tail
	}
	return nil
}

// allows reports whether the operation answers format f.
func (o *op) allows(f format) bool {
	if f == formatJSON {
		return !o.csvOnly && !o.gzip
	}
	return (f == formatCSV && o.csv) || (f == formatGzip && o.gzip)
}

// apiFunc is an Atlas operation after the common steps: it returns its
// success answer, or the error that the one writer (WriteError) answers.
type apiFunc func(c *call) (reply, error)

// orgScope is what an operation requires of the caller and the {orgId}
// path parameter.
type orgScope int

const (
	orgNone    orgScope = iota // no organization in the path
	orgAny                     // the caller's organization, any role
	orgBilling                 // the caller's organization, a role that may use the cost explorer
)

// pathParam is a path parameter other than orgId and what a valid value
// looks like.
type pathParam struct {
	name  string
	valid func(string) bool
	why   string
}

// tokenParam is the {token} of a cost-explorer result: anything but 64
// lower-case hex characters (the only form this server mints) is 400
// INVALID_PATH_PARAMETER.
var tokenParam = pathParam{name: "token", valid: costexplorer.IsToken, why: "a token is 64 lower-case hexadecimal characters."}

// call is one Atlas request after the common steps: the caller, the
// negotiated version and format, the common parameters, the authorized
// organization and the request body, when the operation declares them.
type call struct {
	r         *http.Request
	principal *costexplorer.Principal
	neg       negotiation
	commonParams
	orgID string // the authorized {orgId}; "" for orgNone
	body  []byte // the request body of an operation with body
}

// atlas wraps an Atlas operation with the steps every one shares, in this
// order (DESIGN §1.5; doc.go lists the answers of each):
//
//  1. authenticate (Auth.Authenticate);
//  2. negotiate the version and format from Accept against o.versions and
//     o.csv (for the project's own API, o.own, the format alone: own.go);
//  3. read the common parameters pretty and envelope;
//  4. check the {orgId} path parameter and authorize the caller on it
//     (o.org);
//  5. check the other path parameters (o.params);
//  6. take a token of the organization's bucket of o.limit;
//  7. check the request media type (Atlas's, or application/json for
//     o.own) and read the body (o.body);
//
// then it runs the operation and writes its reply, or its error through the
// one error writer.
func (s *Server) atlas(o op) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.steps(w, r, &o)
		var rep reply
		if err == nil {
			rep, err = o.api(c)
		}
		if err != nil {
			WriteError(w, r, err)
			return
		}
		rep.write(w, c)
	})
}

// steps runs the common steps of o on r and returns the call.
func (s *Server) steps(w http.ResponseWriter, r *http.Request, o *op) (*call, error) {
	p, err := s.cfg.Auth.Authenticate(w, r)
	if err != nil {
		return nil, err
	}
	if info := infoFrom(r.Context()); info != nil {
		info.principal = p // for the request log line
	}
	c := &call{r: r.WithContext(costexplorer.WithPrincipal(r.Context(), p)), principal: p}
	if o.own {
		c.neg, err = negotiateOwn(r.Header.Values("Accept"), o.csv)
	} else {
		c.neg, err = negotiateFormats(r.Header.Values("Accept"), o.versions, o.allows)
	}
	if err != nil {
		return nil, err
	}
	if o.sunset != "" && c.neg.version == vPreview {
		// On every answer of the preview, errors too: the client is told
		// whatever it asked.
		sunset, _ := time.Parse(time.DateOnly, o.sunset)
		w.Header().Set("Sunset", sunset.Format(http.TimeFormat))
	}
	if c.commonParams, err = parseCommonParams(r); err != nil {
		return nil, err
	}
	if o.org != orgNone {
		// After authentication, so that an anonymous caller learns nothing;
		// the refusal is the same whether or not the organization exists.
		c.orgID = r.PathValue("orgId")
		if !costexplorer.IsID(c.orgID) {
			return nil, errPathParameter("orgId", c.orgID, "an organization id is 24 lower-case hexadecimal characters.")
		}
		if err := costexplorer.AuthorizeOrg(p, c.orgID, o.org == orgBilling); err != nil {
			return nil, err
		}
	}
	for _, pp := range o.params {
		if v := r.PathValue(pp.name); !pp.valid(v) {
			return nil, errPathParameter(pp.name, v, pp.why)
		}
	}
	if o.limit != "" {
		bucket := c.orgID
		if bucket == "" {
			bucket = p.OrgID
		}
		if err := s.rateLimit(w, o.limit, bucket); err != nil {
			return nil, err
		}
	}
	if o.body {
		if o.own {
			err = checkOwnContentType(r.Header.Get("Content-Type"))
		} else {
			err = checkRequestContentType(r.Header.Get("Content-Type"), o.versions, c.neg.version)
		}
		if err != nil {
			return nil, err
		}
		if c.body, err = readBody(w, r, s.cfg.MaxBodyBytes); err != nil {
			return nil, err
		}
	}
	return c, nil
}
