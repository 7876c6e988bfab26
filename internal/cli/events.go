package cli

import (
	"context"
	"flag"
	"io"
	"strconv"

	"github.com/purse-ledger/purse/client"
)

func eventCommands() []Command {
	return []Command{
		{Name: "alerts get", Args: "ACCOUNT", Summary: "an account's thresholds and their state", Admin: true,
			Call:  func(ctx context.Context, x *Inv) (any, error) { return x.Client.GetAlerts(ctx, x.Arg(0)) },
			Print: text(printAlerts)},
		{Name: "alerts set", Args: "ACCOUNT", Summary: "set an account's thresholds (every one: a flag left out turns it off)", Admin: true,
			Help: "Alerts fire once, at the commit that crosses them, and re-arm (docs/events.md). A threshold whose\nsettings are unchanged keeps its state.",
			Flags: declare(func(fs *flag.FlagSet) {
				fs.String("low-below", "", "balance.low when available falls below this")
				fs.String("low-margin", "", "re-arm (balance.recovered) once available is above --low-below plus this")
				fs.Bool("depleted", false, "balance.depleted when available reaches 0")
				fs.Bool("monthly", false, "monthly_limit.reached at 80 % and 100 % of the monthly limit")
				fs.String("topup-below", "", "topup.requested when available falls below this")
				fs.String("topup-to", "", "the amount topup.requested asks for brings available to this")
				fs.Int("topup-max-per-day", 1, "at most this many topup.requested a UTC day")
			}),
			Call: alertsSet, Print: text(printAlerts)},
	}
}

func alertsSet(ctx context.Context, x *Inv) (any, error) {
	s := client.AlertSettings{Depleted: x.Bool("depleted"), MonthlyLimit: x.Bool("monthly")}
	if below := x.Str("low-below"); below != "" || x.Str("low-margin") != "" {
		s.LowBalance = &client.LowBalance{Below: below, Margin: x.Str("low-margin")}
	}
	if below, to := x.Str("topup-below"), x.Str("topup-to"); below != "" || to != "" {
		s.AutoTopUp = &client.AutoTopUp{Below: below, TopUpTo: to, MaxPerDay: x.Int("topup-max-per-day")}
	}
	return x.Client.SetAlerts(ctx, x.Arg(0), s)
}

func printAlerts(w io.Writer, a client.Alerts) {
	low, top := "off", "off"
	if a.LowBalance != nil {
		low = "below " + a.LowBalance.Below + ", re-arm above it plus " + a.LowBalance.Margin + " (" + a.State.LowBalance + ")"
	}
	if a.AutoTopUp != nil {
		top = "below " + a.AutoTopUp.Below + ", up to " + a.AutoTopUp.TopUpTo + " (" + a.State.AutoTopUp + ")"
	}
	onOff := func(on bool, state string) string {
		if !on {
			return "off"
		}
		return "on (" + state + ")"
	}
	tprintf(w, "account\t%s\nlow balance\t%s\ndepleted\t%s\nmonthly limit\t%s\nauto top-up\t%s\ntop-ups requested today\t%d\n",
		a.AccountID, low, onOff(a.Depleted, a.State.Depleted), onOff(a.MonthlyLimit, "highest fired: "+strconv.Itoa(a.State.MonthlyLimit)+" %"),
		top, a.State.TopUpsToday)
}
