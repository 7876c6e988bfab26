package adminapi

// Hand-read JSON for the request bodies a busy ledger receives most: a charge, and
// a batch of plain operations. encoding/json's reflection was a seventh of purse's
// CPU on target 3 of the benchmark (batches of a thousand charges). The fast path
// accepts only the plain shape: the route's known keys, spelled exactly, each at
// most once, strings of printable ASCII without escapes, booleans, no null. On
// anything else it gives up and the body goes to encoding/json, so what a body
// means, and every error message, stays encoding/json's
// (FuzzFastDecodeMatchesEncodingJSON checks the two agree).

// fastDecoder is a request body that can read its plain shape by hand. decodeFast
// reports whether it did; when it did not, the value is unchanged.
type fastDecoder interface {
	decodeFast(body []byte) bool
}

// jscan reads JSON tokens from b.
type jscan struct {
	b []byte
	i int
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// lit consumes the byte c (after white space) if it is next.
func (s *jscan) lit(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string of printable ASCII without escapes.
func (s *jscan) str() (string, bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", false
	}
	for j := s.i + 1; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			v := string(s.b[s.i+1 : j])
			s.i = j + 1
			return v, true
		case c < 0x20 || c > 0x7e || c == '\\':
			return "", false
		}
	}
	return "", false
}

func (s *jscan) boolean() (v, ok bool) {
	s.ws()
	switch {
	case len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "true":
		s.i += 4
		return true, true
	case len(s.b)-s.i >= 5 && string(s.b[s.i:s.i+5]) == "false":
		s.i += 5
		return false, true
	}
	return false, false
}

// object reads an object whose values field reads, one key at a time; a key seen
// twice gives up (encoding/json merges repeated keys in ways not worth copying).
func (s *jscan) object(field func(key string) bool) bool {
	if !s.lit('{') {
		return false
	}
	if s.lit('}') {
		return true
	}
	var seen [10]string
	n := 0
	for {
		key, ok := s.str()
		if !ok || !s.lit(':') {
			return false
		}
		for _, k := range seen[:n] {
			if k == key {
				return false
			}
		}
		if n == len(seen) || !field(key) {
			return false
		}
		seen[n] = key
		n++
		if !s.lit(',') {
			return s.lit('}')
		}
	}
}

// end reports whether only white space is left.
func (s *jscan) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// opField reads the value of one of a batch operation's plain keys into op.
func (s *jscan) opField(op *batchOp, key string) bool {
	var ok bool
	switch key {
	case "op":
		op.Op, ok = s.str()
	case "accountId":
		op.AccountID, ok = s.str()
	case "from":
		op.From, ok = s.str()
	case "to":
		op.To, ok = s.str()
	case "amount":
		var v string
		if v, ok = s.str(); ok {
			op.Amount = &v
		}
	case "reference":
		op.Reference, ok = s.str()
	case "useFreeMessage":
		op.UseFreeMessage, ok = s.boolean()
	case "fallbackToMoney":
		var v bool
		if v, ok = s.boolean(); ok {
			op.FallbackToMoney = &v
		}
	case "chargeId":
		op.ChargeID, ok = s.str()
	case "reason":
		op.Reason, ok = s.str()
	case "holdId":
		op.HoldID, ok = s.str()
	case "serviceType":
		op.ServiceType, ok = s.str()
	}
	return ok
}

// batchRequest is the body of POST /v1/batch.
type batchRequest struct {
	Atomic     bool      `json:"atomic"`
	Operations []batchOp `json:"operations"`
}

func (r *batchRequest) decodeFast(body []byte) bool {
	s := &jscan{b: body}
	var out batchRequest
	ok := s.object(func(key string) bool {
		switch key {
		case "atomic":
			var ok bool
			out.Atomic, ok = s.boolean()
			return ok
		case "operations":
			if !s.lit('[') {
				return false
			}
			out.Operations = []batchOp{}
			if s.lit(']') {
				return true
			}
			for {
				var op batchOp
				if !s.object(func(k string) bool { return s.opField(&op, k) }) {
					return false
				}
				out.Operations = append(out.Operations, op)
				if !s.lit(',') {
					return s.lit(']')
				}
			}
		}
		return false
	})
	if !ok || !s.end() {
		return false
	}
	*r = out
	return true
}

// chargeRequest is the body of POST /v1/accounts/{id}/charges.
type chargeRequest struct {
	Amount          *string           `json:"amount"`
	Reference       string            `json:"reference"`
	Metadata        map[string]string `json:"metadata"`
	UseFreeMessage  bool              `json:"useFreeMessage"`
	FallbackToMoney *bool             `json:"fallbackToMoney"`
	ServiceType     string            `json:"serviceType"`
}

func (r *chargeRequest) decodeFast(body []byte) bool {
	s := &jscan{b: body}
	var op batchOp
	ok := s.object(func(key string) bool {
		switch key {
		case "amount", "reference", "useFreeMessage", "fallbackToMoney", "serviceType":
			return s.opField(&op, key)
		}
		return false
	})
	if !ok || !s.end() {
		return false
	}
	*r = chargeRequest{Amount: op.Amount, Reference: op.Reference, UseFreeMessage: op.UseFreeMessage, FallbackToMoney: op.FallbackToMoney,
		ServiceType: op.ServiceType}
	return true
}
