package httpkit

import "testing"

func TestEncodeError(t *testing.T) {
	ex := ServiceException{MessageID: "BAD_REQUEST", Text: "Bad request", ValidationErrors: map[string][]string{"b": {"x <y>"}, "a": {"one", "two"}}}
	tests := []struct {
		f    Format
		ex   ServiceException
		want string
	}{
		{JSON, ServiceException{MessageID: "UNAUTHORIZED", Text: "Invalid login details"},
			`{"requestError":{"serviceException":{"messageId":"UNAUTHORIZED","text":"Invalid login details"}}}`},
		{XML, ServiceException{MessageID: "UNAUTHORIZED", Text: "Invalid login details"},
			`<requestError><serviceException><messageId>UNAUTHORIZED</messageId><text>Invalid login details</text></serviceException></requestError>`},
		{JSON, ex, `{"requestError":{"serviceException":{"messageId":"BAD_REQUEST","text":"Bad request","validationErrors":{"a":["one","two"],"b":["x \u003cy\u003e"]}}}}`},
		{XML, ex, `<requestError><serviceException><messageId>BAD_REQUEST</messageId><text>Bad request</text><validationErrors>` +
			`<field name="a"><message>one</message><message>two</message></field><field name="b"><message>x &lt;y&gt;</message></field></validationErrors></serviceException></requestError>`},
	}
	for _, tt := range tests {
		if got := string(EncodeError(tt.f, tt.ex)); got != tt.want {
			t.Errorf("EncodeError(%v)\n got %s\nwant %s", tt.f, got, tt.want)
		}
	}
}
