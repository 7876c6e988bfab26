package ledger

import "sort"

// Currency describes an ISO 4217 currency. Symbol is the usual sign where one is
// widely used, otherwise the code itself.
type Currency struct {
	Code   string
	Name   string
	Symbol string
}

// LookupCurrency returns the active ISO 4217 currency with that (upper-case) code.
func LookupCurrency(code string) (Currency, bool) {
	c, ok := currencies[code]
	return c, ok
}

// CurrencyCodes lists every known code, sorted.
func CurrencyCodes() []string {
	codes := make([]string, 0, len(currencies))
	for c := range currencies {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	return codes
}

// currencies is ISO 4217's list of active currency codes (list one, 2024 edition),
// without the fund codes, precious metals and testing codes (XAU, XTS, XXX, ...)
// that no prepaid account is held in.
var currencies = func() map[string]Currency {
	list := []Currency{
		{"AED", "UAE Dirham", "د.إ"}, {"AFN", "Afghani", "؋"}, {"ALL", "Lek", "L"},
		{"AMD", "Armenian Dram", "֏"}, {"ANG", "Netherlands Antillean Guilder", "ƒ"},
		{"AOA", "Kwanza", "Kz"}, {"ARS", "Argentine Peso", "$"}, {"AUD", "Australian Dollar", "A$"},
		{"AWG", "Aruban Florin", "ƒ"}, {"AZN", "Azerbaijan Manat", "₼"},
		{"BAM", "Convertible Mark", "KM"}, {"BBD", "Barbados Dollar", "$"}, {"BDT", "Taka", "৳"},
		{"BGN", "Bulgarian Lev", "лв"}, {"BHD", "Bahraini Dinar", "BD"}, {"BIF", "Burundi Franc", "FBu"},
		{"BMD", "Bermudian Dollar", "$"}, {"BND", "Brunei Dollar", "$"}, {"BOB", "Boliviano", "Bs"},
		{"BRL", "Brazilian Real", "R$"}, {"BSD", "Bahamian Dollar", "$"}, {"BTN", "Ngultrum", "Nu."},
		{"BWP", "Pula", "P"}, {"BYN", "Belarusian Ruble", "Br"}, {"BZD", "Belize Dollar", "$"},
		{"CAD", "Canadian Dollar", "CA$"}, {"CDF", "Congolese Franc", "FC"}, {"CHF", "Swiss Franc", "CHF"},
		{"CLP", "Chilean Peso", "$"}, {"CNY", "Yuan Renminbi", "¥"}, {"COP", "Colombian Peso", "$"},
		{"CRC", "Costa Rican Colon", "₡"}, {"CUP", "Cuban Peso", "$"}, {"CVE", "Cabo Verde Escudo", "$"},
		{"CZK", "Czech Koruna", "Kč"}, {"DJF", "Djibouti Franc", "Fdj"}, {"DKK", "Danish Krone", "kr"},
		{"DOP", "Dominican Peso", "$"}, {"DZD", "Algerian Dinar", "دج"}, {"EGP", "Egyptian Pound", "E£"},
		{"ERN", "Nakfa", "Nfk"}, {"ETB", "Ethiopian Birr", "Br"}, {"EUR", "Euro", "€"},
		{"FJD", "Fiji Dollar", "$"}, {"FKP", "Falkland Islands Pound", "£"}, {"GBP", "Pound Sterling", "£"},
		{"GEL", "Lari", "₾"}, {"GHS", "Ghana Cedi", "GH₵"}, {"GIP", "Gibraltar Pound", "£"},
		{"GMD", "Dalasi", "D"}, {"GNF", "Guinean Franc", "FG"}, {"GTQ", "Quetzal", "Q"},
		{"GYD", "Guyana Dollar", "$"}, {"HKD", "Hong Kong Dollar", "HK$"}, {"HNL", "Lempira", "L"},
		{"HTG", "Gourde", "G"}, {"HUF", "Forint", "Ft"}, {"IDR", "Rupiah", "Rp"},
		{"ILS", "New Israeli Sheqel", "₪"}, {"INR", "Indian Rupee", "₹"}, {"IQD", "Iraqi Dinar", "ع.د"},
		{"IRR", "Iranian Rial", "﷼"}, {"ISK", "Iceland Krona", "kr"}, {"JMD", "Jamaican Dollar", "$"},
		{"JOD", "Jordanian Dinar", "JD"}, {"JPY", "Yen", "¥"}, {"KES", "Kenyan Shilling", "KSh"},
		{"KGS", "Som", "с"}, {"KHR", "Riel", "៛"}, {"KMF", "Comorian Franc", "CF"},
		{"KPW", "North Korean Won", "₩"}, {"KRW", "Won", "₩"}, {"KWD", "Kuwaiti Dinar", "KD"},
		{"KYD", "Cayman Islands Dollar", "$"}, {"KZT", "Tenge", "₸"}, {"LAK", "Lao Kip", "₭"},
		{"LBP", "Lebanese Pound", "ل.ل"}, {"LKR", "Sri Lanka Rupee", "Rs"}, {"LRD", "Liberian Dollar", "$"},
		{"LSL", "Loti", "L"}, {"LYD", "Libyan Dinar", "LD"}, {"MAD", "Moroccan Dirham", "DH"},
		{"MDL", "Moldovan Leu", "L"}, {"MGA", "Malagasy Ariary", "Ar"}, {"MKD", "Denar", "ден"},
		{"MMK", "Kyat", "K"}, {"MNT", "Tugrik", "₮"}, {"MOP", "Pataca", "MOP$"},
		{"MRU", "Ouguiya", "UM"}, {"MUR", "Mauritius Rupee", "Rs"}, {"MVR", "Rufiyaa", "Rf"},
		{"MWK", "Malawi Kwacha", "MK"}, {"MXN", "Mexican Peso", "MX$"}, {"MYR", "Malaysian Ringgit", "RM"},
		{"MZN", "Mozambique Metical", "MT"}, {"NAD", "Namibia Dollar", "$"}, {"NGN", "Naira", "₦"},
		{"NIO", "Cordoba Oro", "C$"}, {"NOK", "Norwegian Krone", "kr"}, {"NPR", "Nepalese Rupee", "Rs"},
		{"NZD", "New Zealand Dollar", "NZ$"}, {"OMR", "Rial Omani", "ر.ع."}, {"PAB", "Balboa", "B/."},
		{"PEN", "Sol", "S/"}, {"PGK", "Kina", "K"}, {"PHP", "Philippine Peso", "₱"},
		{"PKR", "Pakistan Rupee", "Rs"}, {"PLN", "Zloty", "zł"}, {"PYG", "Guarani", "₲"},
		{"QAR", "Qatari Rial", "QR"}, {"RON", "Romanian Leu", "lei"}, {"RSD", "Serbian Dinar", "дин."},
		{"RUB", "Russian Ruble", "₽"}, {"RWF", "Rwanda Franc", "FRw"}, {"SAR", "Saudi Riyal", "SR"},
		{"SBD", "Solomon Islands Dollar", "$"}, {"SCR", "Seychelles Rupee", "Rs"}, {"SDG", "Sudanese Pound", "£"},
		{"SEK", "Swedish Krona", "kr"}, {"SGD", "Singapore Dollar", "S$"}, {"SHP", "Saint Helena Pound", "£"},
		{"SLE", "Leone", "Le"}, {"SOS", "Somali Shilling", "Sh"}, {"SRD", "Surinam Dollar", "$"},
		{"SSP", "South Sudanese Pound", "£"}, {"STN", "Dobra", "Db"}, {"SVC", "El Salvador Colon", "₡"},
		{"SYP", "Syrian Pound", "£"}, {"SZL", "Lilangeni", "L"}, {"THB", "Baht", "฿"},
		{"TJS", "Somoni", "SM"}, {"TMT", "Turkmenistan New Manat", "m"}, {"TND", "Tunisian Dinar", "DT"},
		{"TOP", "Pa’anga", "T$"}, {"TRY", "Turkish Lira", "₺"}, {"TTD", "Trinidad and Tobago Dollar", "$"},
		{"TWD", "New Taiwan Dollar", "NT$"}, {"TZS", "Tanzanian Shilling", "TSh"}, {"UAH", "Hryvnia", "₴"},
		{"UGX", "Uganda Shilling", "USh"}, {"USD", "US Dollar", "$"}, {"UYU", "Peso Uruguayo", "$U"},
		{"UZS", "Uzbekistan Sum", "soʻm"}, {"VED", "Bolívar Soberano", "Bs.D"}, {"VES", "Bolívar Soberano", "Bs.S"},
		{"VND", "Dong", "₫"}, {"VUV", "Vatu", "VT"}, {"WST", "Tala", "WS$"},
		{"XAF", "CFA Franc BEAC", "FCFA"}, {"XCD", "East Caribbean Dollar", "EC$"}, {"XCG", "Caribbean Guilder", "Cg"},
		{"XOF", "CFA Franc BCEAO", "CFA"}, {"XPF", "CFP Franc", "₣"}, {"YER", "Yemeni Rial", "﷼"},
		{"ZAR", "Rand", "R"}, {"ZMW", "Zambian Kwacha", "ZK"}, {"ZWG", "Zimbabwe Gold", "ZiG"},
	}
	m := make(map[string]Currency, len(list))
	for _, c := range list {
		m[c.Code] = c
	}
	return m
}()
