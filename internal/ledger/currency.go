package ledger

import "sort"

// Currency describes an ISO 4217 currency. Symbol is the usual sign where one is
// widely used, otherwise the code itself.
type Currency struct {
	Code string
	// Numeric is the ISO 4217 numeric code (EUR is 978): Infobip's total-balance
	// reports it as the currency's integer id. It is not unique: XCG took over
	// ANG's 532, and both are still listed while ANG is being withdrawn.
	Numeric int
	Name    string
	Symbol  string
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

// currencies is ISO 4217's list of active currency codes (list one, 2024 edition,
// with amendments 176 and 177 for XCG and ZWG) and their numeric codes,
// without the fund codes, precious metals and testing codes (XAU, XTS, XXX, ...)
// that no prepaid account is held in.
var currencies = func() map[string]Currency {
	list := []Currency{
		{"AED", 784, "UAE Dirham", "د.إ"}, {"AFN", 971, "Afghani", "؋"}, {"ALL", 8, "Lek", "L"},
		{"AMD", 51, "Armenian Dram", "֏"}, {"ANG", 532, "Netherlands Antillean Guilder", "ƒ"},
		{"AOA", 973, "Kwanza", "Kz"}, {"ARS", 32, "Argentine Peso", "$"}, {"AUD", 36, "Australian Dollar", "A$"},
		{"AWG", 533, "Aruban Florin", "ƒ"}, {"AZN", 944, "Azerbaijan Manat", "₼"},
		{"BAM", 977, "Convertible Mark", "KM"}, {"BBD", 52, "Barbados Dollar", "$"}, {"BDT", 50, "Taka", "৳"},
		{"BGN", 975, "Bulgarian Lev", "лв"}, {"BHD", 48, "Bahraini Dinar", "BD"}, {"BIF", 108, "Burundi Franc", "FBu"},
		{"BMD", 60, "Bermudian Dollar", "$"}, {"BND", 96, "Brunei Dollar", "$"}, {"BOB", 68, "Boliviano", "Bs"},
		{"BRL", 986, "Brazilian Real", "R$"}, {"BSD", 44, "Bahamian Dollar", "$"}, {"BTN", 64, "Ngultrum", "Nu."},
		{"BWP", 72, "Pula", "P"}, {"BYN", 933, "Belarusian Ruble", "Br"}, {"BZD", 84, "Belize Dollar", "$"},
		{"CAD", 124, "Canadian Dollar", "CA$"}, {"CDF", 976, "Congolese Franc", "FC"}, {"CHF", 756, "Swiss Franc", "CHF"},
		{"CLP", 152, "Chilean Peso", "$"}, {"CNY", 156, "Yuan Renminbi", "¥"}, {"COP", 170, "Colombian Peso", "$"},
		{"CRC", 188, "Costa Rican Colon", "₡"}, {"CUP", 192, "Cuban Peso", "$"}, {"CVE", 132, "Cabo Verde Escudo", "$"},
		{"CZK", 203, "Czech Koruna", "Kč"}, {"DJF", 262, "Djibouti Franc", "Fdj"}, {"DKK", 208, "Danish Krone", "kr"},
		{"DOP", 214, "Dominican Peso", "$"}, {"DZD", 12, "Algerian Dinar", "دج"}, {"EGP", 818, "Egyptian Pound", "E£"},
		{"ERN", 232, "Nakfa", "Nfk"}, {"ETB", 230, "Ethiopian Birr", "Br"}, {"EUR", 978, "Euro", "€"},
		{"FJD", 242, "Fiji Dollar", "$"}, {"FKP", 238, "Falkland Islands Pound", "£"}, {"GBP", 826, "Pound Sterling", "£"},
		{"GEL", 981, "Lari", "₾"}, {"GHS", 936, "Ghana Cedi", "GH₵"}, {"GIP", 292, "Gibraltar Pound", "£"},
		{"GMD", 270, "Dalasi", "D"}, {"GNF", 324, "Guinean Franc", "FG"}, {"GTQ", 320, "Quetzal", "Q"},
		{"GYD", 328, "Guyana Dollar", "$"}, {"HKD", 344, "Hong Kong Dollar", "HK$"}, {"HNL", 340, "Lempira", "L"},
		{"HTG", 332, "Gourde", "G"}, {"HUF", 348, "Forint", "Ft"}, {"IDR", 360, "Rupiah", "Rp"},
		{"ILS", 376, "New Israeli Sheqel", "₪"}, {"INR", 356, "Indian Rupee", "₹"}, {"IQD", 368, "Iraqi Dinar", "ع.د"},
		{"IRR", 364, "Iranian Rial", "﷼"}, {"ISK", 352, "Iceland Krona", "kr"}, {"JMD", 388, "Jamaican Dollar", "$"},
		{"JOD", 400, "Jordanian Dinar", "JD"}, {"JPY", 392, "Yen", "¥"}, {"KES", 404, "Kenyan Shilling", "KSh"},
		{"KGS", 417, "Som", "с"}, {"KHR", 116, "Riel", "៛"}, {"KMF", 174, "Comorian Franc", "CF"},
		{"KPW", 408, "North Korean Won", "₩"}, {"KRW", 410, "Won", "₩"}, {"KWD", 414, "Kuwaiti Dinar", "KD"},
		{"KYD", 136, "Cayman Islands Dollar", "$"}, {"KZT", 398, "Tenge", "₸"}, {"LAK", 418, "Lao Kip", "₭"},
		{"LBP", 422, "Lebanese Pound", "ل.ل"}, {"LKR", 144, "Sri Lanka Rupee", "Rs"}, {"LRD", 430, "Liberian Dollar", "$"},
		{"LSL", 426, "Loti", "L"}, {"LYD", 434, "Libyan Dinar", "LD"}, {"MAD", 504, "Moroccan Dirham", "DH"},
		{"MDL", 498, "Moldovan Leu", "L"}, {"MGA", 969, "Malagasy Ariary", "Ar"}, {"MKD", 807, "Denar", "ден"},
		{"MMK", 104, "Kyat", "K"}, {"MNT", 496, "Tugrik", "₮"}, {"MOP", 446, "Pataca", "MOP$"},
		{"MRU", 929, "Ouguiya", "UM"}, {"MUR", 480, "Mauritius Rupee", "Rs"}, {"MVR", 462, "Rufiyaa", "Rf"},
		{"MWK", 454, "Malawi Kwacha", "MK"}, {"MXN", 484, "Mexican Peso", "MX$"}, {"MYR", 458, "Malaysian Ringgit", "RM"},
		{"MZN", 943, "Mozambique Metical", "MT"}, {"NAD", 516, "Namibia Dollar", "$"}, {"NGN", 566, "Naira", "₦"},
		{"NIO", 558, "Cordoba Oro", "C$"}, {"NOK", 578, "Norwegian Krone", "kr"}, {"NPR", 524, "Nepalese Rupee", "Rs"},
		{"NZD", 554, "New Zealand Dollar", "NZ$"}, {"OMR", 512, "Rial Omani", "ر.ع."}, {"PAB", 590, "Balboa", "B/."},
		{"PEN", 604, "Sol", "S/"}, {"PGK", 598, "Kina", "K"}, {"PHP", 608, "Philippine Peso", "₱"},
		{"PKR", 586, "Pakistan Rupee", "Rs"}, {"PLN", 985, "Zloty", "zł"}, {"PYG", 600, "Guarani", "₲"},
		{"QAR", 634, "Qatari Rial", "QR"}, {"RON", 946, "Romanian Leu", "lei"}, {"RSD", 941, "Serbian Dinar", "дин."},
		{"RUB", 643, "Russian Ruble", "₽"}, {"RWF", 646, "Rwanda Franc", "FRw"}, {"SAR", 682, "Saudi Riyal", "SR"},
		{"SBD", 90, "Solomon Islands Dollar", "$"}, {"SCR", 690, "Seychelles Rupee", "Rs"}, {"SDG", 938, "Sudanese Pound", "£"},
		{"SEK", 752, "Swedish Krona", "kr"}, {"SGD", 702, "Singapore Dollar", "S$"}, {"SHP", 654, "Saint Helena Pound", "£"},
		{"SLE", 925, "Leone", "Le"}, {"SOS", 706, "Somali Shilling", "Sh"}, {"SRD", 968, "Surinam Dollar", "$"},
		{"SSP", 728, "South Sudanese Pound", "£"}, {"STN", 930, "Dobra", "Db"}, {"SVC", 222, "El Salvador Colon", "₡"},
		{"SYP", 760, "Syrian Pound", "£"}, {"SZL", 748, "Lilangeni", "L"}, {"THB", 764, "Baht", "฿"},
		{"TJS", 972, "Somoni", "SM"}, {"TMT", 934, "Turkmenistan New Manat", "m"}, {"TND", 788, "Tunisian Dinar", "DT"},
		{"TOP", 776, "Pa’anga", "T$"}, {"TRY", 949, "Turkish Lira", "₺"}, {"TTD", 780, "Trinidad and Tobago Dollar", "$"},
		{"TWD", 901, "New Taiwan Dollar", "NT$"}, {"TZS", 834, "Tanzanian Shilling", "TSh"}, {"UAH", 980, "Hryvnia", "₴"},
		{"UGX", 800, "Uganda Shilling", "USh"}, {"USD", 840, "US Dollar", "$"}, {"UYU", 858, "Peso Uruguayo", "$U"},
		{"UZS", 860, "Uzbekistan Sum", "soʻm"}, {"VED", 926, "Bolívar Soberano", "Bs.D"}, {"VES", 928, "Bolívar Soberano", "Bs.S"},
		{"VND", 704, "Dong", "₫"}, {"VUV", 548, "Vatu", "VT"}, {"WST", 882, "Tala", "WS$"},
		{"XAF", 950, "CFA Franc BEAC", "FCFA"}, {"XCD", 951, "East Caribbean Dollar", "EC$"}, {"XCG", 532, "Caribbean Guilder", "Cg"},
		{"XOF", 952, "CFA Franc BCEAO", "CFA"}, {"XPF", 953, "CFP Franc", "₣"}, {"YER", 886, "Yemeni Rial", "﷼"},
		{"ZAR", 710, "Rand", "R"}, {"ZMW", 967, "Zambian Kwacha", "ZK"}, {"ZWG", 924, "Zimbabwe Gold", "ZiG"},
	}
	m := make(map[string]Currency, len(list))
	for _, c := range list {
		m[c.Code] = c
	}
	return m
}()
