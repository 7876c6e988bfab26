package adminapi

import (
	"net/http"

	"github.com/purse-ledger/purse/internal/fault"
)

// The emulator's routes (purse serve --emulator): fault rules and the reset. They
// are registered only when Config.Faults (and Config.Reset) are set, so a purse
// serving real money answers them 404 like any unknown path.

func (a *API) emulatorRoutes(m *http.ServeMux) {
	if a.cfg.Faults != nil {
		m.HandleFunc("GET /v1/faults", a.authed(a.listFaults))
		m.HandleFunc("POST /v1/faults", a.authed(a.addFault))
		m.HandleFunc("DELETE /v1/faults", a.authed(a.clearFaults))
		m.HandleFunc("DELETE /v1/faults/{id}", a.authed(a.removeFault))
	}
	if a.cfg.Reset != nil {
		m.HandleFunc("POST /v1/reset", a.authed(a.reset))
	}
}

// EmulatorRoute reports whether r is for one of the emulator's own routes, which
// fault rules never touch (a rule matching every admin request would otherwise
// lock the operator out of removing it).
func EmulatorRoute(r *http.Request) bool {
	p := r.URL.Path
	return p == "/v1/faults" || len(p) > len("/v1/faults/") && p[:len("/v1/faults/")] == "/v1/faults/" || p == "/v1/reset"
}

type faultList struct {
	Faults []fault.Rule `json:"faults"`
}

func (a *API) listFaults(w http.ResponseWriter, r *http.Request) {
	a.reply(w, http.StatusOK, faultList{Faults: a.cfg.Faults.List()})
}

func (a *API) addFault(w http.ResponseWriter, r *http.Request) {
	var spec fault.Spec
	if _, err := decode(r, &spec); err != nil {
		a.fail(w, r, err)
		return
	}
	rule, err := a.cfg.Faults.Add(spec)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusCreated, rule)
}

func (a *API) clearFaults(w http.ResponseWriter, r *http.Request) {
	a.reply(w, http.StatusOK, map[string]int{"removed": a.cfg.Faults.Clear()})
}

func (a *API) removeFault(w http.ResponseWriter, r *http.Request) {
	if err := a.cfg.Faults.Remove(r.PathValue("id")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// reset puts the store back to the seed purse serve was started with (empty
// without one) and clears the fault rules.
func (a *API) reset(w http.ResponseWriter, r *http.Request) {
	if err := a.cfg.Reset(r.Context()); err != nil {
		a.fail(w, r, err)
		return
	}
	if a.cfg.Faults != nil {
		a.cfg.Faults.Clear()
	}
	a.reply(w, http.StatusOK, map[string]bool{"reset": true})
}
