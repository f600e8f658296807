// The reference data the universe is generated from: indices with Kite's tokens, F&O stocks, MCX commodities.
// Prices are late-2025 levels; the market model's random walk stays near them.

/// What kind of derivatives an underlying has and on which exchange they trade.
enum DerivativeVenue: Sendable {
    case nfo
    case bfo
    case mcx
}

/// One index as Kite lists it (segment `INDICES`).
struct IndexDefinition: Sendable {
    var tradingsymbol: String
    var exchange: String
    var exchangeToken: UInt32
    var basePrice: Double
    var volatility: Double
    /// Derivatives, when the index has them.
    var derivatives: IndexDerivatives?
}

/// The F&O contract terms of an index.
struct IndexDerivatives: Sendable {
    /// The `name` column of its contracts (`NIFTY`, `BANKNIFTY`).
    var name: String
    var venue: DerivativeVenue
    var strikeStep: Double
    var lotSize: Int
    var hasWeeklies: Bool
    /// Quarterly (Mar/Jun/Sep/Dec) expiries beyond the three monthlies.
    var quarterlies: Int
    /// Half-yearly (Jun/Dec) expiries beyond the quarterlies.
    var halfYearlies: Int
    var impliedVolatility: Double
}

/// One equity with its price level; `fnoLot` is set for F&O stocks.
struct EquityDefinition: Sendable {
    var symbol: String
    var name: String
    var basePrice: Double
    var nseExchangeToken: UInt32
    var bseScripCode: UInt32?
    var fnoLot: Int?
}

/// One MCX commodity.
struct CommodityDefinition: Sendable {
    var name: String
    var basePrice: Double
    var volatility: Double
    var impliedVolatility: Double
    var tickSize: Double
    var optionTickSize: Double
    var lotSize: Int
    /// Futures expiry months (1...12) and day rule.
    var futureMonths: Set<Int>
    var futureRule: MCXExpiryRule
    var futureCount: Int
    /// Options: strike step and how many monthly series (0 = none).
    var optionStrikeStep: Double
    var optionSeries: Int
}

/// How an MCX contract's expiry day is chosen within its month.
enum MCXExpiryRule: Sendable {
    /// The given day of the month, moved back to a weekday.
    case day(Int)
    /// The last weekday of the month.
    case lastWeekday
}

enum UnderlyingCatalog {
    static let indices: [IndexDefinition] = [
        IndexDefinition(
            tradingsymbol: "NIFTY 50", exchange: "NSE", exchangeToken: 1001, basePrice: 25_900, volatility: 0.13,
            derivatives: IndexDerivatives(name: "NIFTY", venue: .nfo, strikeStep: 50, lotSize: 75, hasWeeklies: true, quarterlies: 3, halfYearlies: 8, impliedVolatility: 0.11)
        ),
        IndexDefinition(
            tradingsymbol: "NIFTY BANK", exchange: "NSE", exchangeToken: 1016, basePrice: 58_500, volatility: 0.15,
            derivatives: IndexDerivatives(name: "BANKNIFTY", venue: .nfo, strikeStep: 100, lotSize: 35, hasWeeklies: false, quarterlies: 2, halfYearlies: 0, impliedVolatility: 0.12)
        ),
        IndexDefinition(
            tradingsymbol: "NIFTY FIN SERVICE", exchange: "NSE", exchangeToken: 1007, basePrice: 27_500, volatility: 0.15,
            derivatives: IndexDerivatives(name: "FINNIFTY", venue: .nfo, strikeStep: 50, lotSize: 65, hasWeeklies: false, quarterlies: 0, halfYearlies: 0, impliedVolatility: 0.12)
        ),
        IndexDefinition(
            tradingsymbol: "NIFTY MID SELECT", exchange: "NSE", exchangeToken: 1125, basePrice: 13_600, volatility: 0.17,
            derivatives: IndexDerivatives(name: "MIDCPNIFTY", venue: .nfo, strikeStep: 25, lotSize: 140, hasWeeklies: false, quarterlies: 0, halfYearlies: 0, impliedVolatility: 0.15)
        ),
        IndexDefinition(
            tradingsymbol: "SENSEX", exchange: "BSE", exchangeToken: 1, basePrice: 84_500, volatility: 0.13,
            derivatives: IndexDerivatives(name: "SENSEX", venue: .bfo, strikeStep: 100, lotSize: 20, hasWeeklies: true, quarterlies: 0, halfYearlies: 0, impliedVolatility: 0.11)
        ),
        IndexDefinition(
            tradingsymbol: "BANKEX", exchange: "BSE", exchangeToken: 1072, basePrice: 65_000, volatility: 0.15,
            derivatives: IndexDerivatives(name: "BANKEX", venue: .bfo, strikeStep: 100, lotSize: 30, hasWeeklies: false, quarterlies: 0, halfYearlies: 0, impliedVolatility: 0.13)
        ),
        IndexDefinition(tradingsymbol: "INDIA VIX", exchange: "NSE", exchangeToken: 1035, basePrice: 12.5, volatility: 0.6, derivatives: nil),
        IndexDefinition(tradingsymbol: "NIFTY IT", exchange: "NSE", exchangeToken: 1015, basePrice: 36_500, volatility: 0.2, derivatives: nil),
        IndexDefinition(tradingsymbol: "NIFTY NEXT 50", exchange: "NSE", exchangeToken: 1058, basePrice: 69_500, volatility: 0.17, derivatives: nil),
        IndexDefinition(tradingsymbol: "NIFTY AUTO", exchange: "NSE", exchangeToken: 1029, basePrice: 27_200, volatility: 0.18, derivatives: nil),
        IndexDefinition(tradingsymbol: "NIFTY PHARMA", exchange: "NSE", exchangeToken: 1025, basePrice: 22_600, volatility: 0.16, derivatives: nil),
        IndexDefinition(tradingsymbol: "NIFTY FMCG", exchange: "NSE", exchangeToken: 1023, basePrice: 55_800, volatility: 0.13, derivatives: nil),
        IndexDefinition(tradingsymbol: "NIFTY METAL", exchange: "NSE", exchangeToken: 1030, basePrice: 10_300, volatility: 0.22, derivatives: nil),
        IndexDefinition(tradingsymbol: "NIFTY 100", exchange: "NSE", exchangeToken: 1018, basePrice: 26_500, volatility: 0.13, derivatives: nil),
        IndexDefinition(tradingsymbol: "NIFTY 500", exchange: "NSE", exchangeToken: 1047, basePrice: 23_700, volatility: 0.14, derivatives: nil),
        IndexDefinition(tradingsymbol: "NIFTY MIDCAP 100", exchange: "NSE", exchangeToken: 1062, basePrice: 60_500, volatility: 0.17, derivatives: nil),
    ]

    static let commodities: [CommodityDefinition] = [
        CommodityDefinition(
            name: "GOLD", basePrice: 124_000, volatility: 0.16, impliedVolatility: 0.17, tickSize: 1, optionTickSize: 0.5, lotSize: 1,
            futureMonths: [2, 4, 6, 8, 10, 12], futureRule: .day(5), futureCount: 4, optionStrikeStep: 500, optionSeries: 2
        ),
        CommodityDefinition(
            name: "SILVER", basePrice: 155_000, volatility: 0.25, impliedVolatility: 0.27, tickSize: 1, optionTickSize: 0.5, lotSize: 30,
            futureMonths: [3, 5, 7, 9, 12], futureRule: .day(5), futureCount: 3, optionStrikeStep: 1000, optionSeries: 0
        ),
        CommodityDefinition(
            name: "CRUDEOIL", basePrice: 5_300, volatility: 0.35, impliedVolatility: 0.38, tickSize: 1, optionTickSize: 0.1, lotSize: 100,
            futureMonths: Set(1...12), futureRule: .day(19), futureCount: 6, optionStrikeStep: 50, optionSeries: 3
        ),
        CommodityDefinition(
            name: "NATURALGAS", basePrice: 390, volatility: 0.55, impliedVolatility: 0.6, tickSize: 0.1, optionTickSize: 0.05, lotSize: 1250,
            futureMonths: Set(1...12), futureRule: .day(26), futureCount: 4, optionStrikeStep: 5, optionSeries: 3
        ),
        CommodityDefinition(
            name: "COPPER", basePrice: 1_010, volatility: 0.22, impliedVolatility: 0.22, tickSize: 0.05, optionTickSize: 0.05, lotSize: 2500,
            futureMonths: Set(1...12), futureRule: .lastWeekday, futureCount: 3, optionStrikeStep: 5, optionSeries: 0
        ),
    ]

    /// Equities: `SYMBOL|Company|price|nse token|bse code|F&O lot` (0 = unknown token/no F&O; a generated one is used).
    static let equities: [EquityDefinition] = equityTable.split(separator: "\n").compactMap { line in
        let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard f.count == 6, let price = Double(f[2]) else { return nil }
        let lot = Int(f[5]) ?? 0
        return EquityDefinition(
            symbol: f[0], name: f[1], basePrice: price, nseExchangeToken: UInt32(f[3]) ?? 0,
            bseScripCode: UInt32(f[4]).flatMap { $0 == 0 ? nil : $0 }, fnoLot: lot == 0 ? nil : lot
        )
    }

    /// F&O lot sizes the table leaves open: about ₹7 lakh of notional, in a round number.
    static func defaultLot(price: Double) -> Int {
        let raw = 700_000 / price
        let steps: [Double] = [1, 5, 25, 50, 100, 250, 500, 1000, 2500, 5000]
        let step = steps.last { $0 * 4 <= raw } ?? 1
        return max(1, Int((raw / step).rounded() * step))
    }

    /// NSE's stock-option strike intervals by price band (approximate).
    static func stockStrikeStep(price: Double) -> Double {
        switch price {
        case ..<50: 1
        case ..<100: 2
        case ..<250: 2.5
        case ..<500: 5
        case ..<1000: 10
        case ..<2500: 20
        case ..<5000: 50
        case ..<10000: 100
        case ..<20000: 250
        default: 500
        }
    }

    private static let equityTable = """
    RELIANCE|RELIANCE INDUSTRIES|1510|2885|500325|500
    HDFCBANK|HDFC BANK|990|1333|500180|550
    ICICIBANK|ICICI BANK|1370|4963|532174|700
    INFY|INFOSYS|1510|1594|500209|400
    TCS|TATA CONSULTANCY SERV LT|3110|11536|532540|175
    SBIN|STATE BANK OF INDIA|960|3045|500112|750
    ITC|ITC|405|1660|500875|1600
    LT|LARSEN & TOUBRO|4000|11483|500510|175
    BHARTIARTL|BHARTI AIRTEL|2100|10604|532454|475
    AXISBANK|AXIS BANK|1240|5900|532215|625
    KOTAKBANK|KOTAK MAHINDRA BANK|2110|1922|500247|400
    HINDUNILVR|HINDUSTAN UNILEVER|2450|1394|500696|300
    BAJFINANCE|BAJAJ FINANCE|1020|317|500034|750
    MARUTI|MARUTI SUZUKI INDIA|15800|10999|532500|50
    TMPV|TATA MOTORS PASS VEH|400|3456|500570|800
    WIPRO|WIPRO|245|3787|507685|3000
    SUNPHARMA|SUN PHARMACEUTICAL IND L|1760|3351|524715|350
    ASIANPAINT|ASIAN PAINTS|2880|236|500820|250
    TITAN|TITAN COMPANY|3850|3506|500114|175
    ULTRACEMCO|ULTRATECH CEMENT|11800|11532|532538|50
    NTPC|NTPC|325|11630|532555|1500
    POWERGRID|POWER GRID CORP|270|14977|532898|1900
    ONGC|OIL AND NATURAL GAS CORP|250|2475|500312|2250
    HCLTECH|HCL TECHNOLOGIES|1620|7229|532281|350
    TATASTEEL|TATA STEEL|172|3499|500470|5500
    ADANIENT|ADANI ENTERPRISES|2450|25|512599|300
    ADANIPORTS|ADANI PORTS AND SEZ|1480|15083|532921|475
    COALINDIA|COAL INDIA|380|20374|533278|1350
    JSWSTEEL|JSW STEEL|1180|11723|500228|675
    BAJAJFINSV|BAJAJ FINSERV|2080|16675|532978|250
    NESTLEIND|NESTLE INDIA|1270|17963|500790|500
    TECHM|TECH MAHINDRA|1450|13538|532755|600
    M&M|MAHINDRA & MAHINDRA|3700|2031|500520|200
    HINDALCO|HINDALCO INDUSTRIES|810|1363|500440|700
    GRASIM|GRASIM INDUSTRIES|2750|1232|500300|250
    DRREDDY|DR. REDDY'S LABORATORIES|1250|881|500124|625
    CIPLA|CIPLA|1530|694|500087|375
    EICHERMOT|EICHER MOTORS|6900|910|505200|175
    HEROMOTOCO|HERO MOTOCORP|5600|1348|500182|150
    BPCL|BHARAT PETROLEUM CORP|360|526|500547|1975
    BRITANNIA|BRITANNIA INDUSTRIES|5900|547|500825|125
    DIVISLAB|DIVI'S LABORATORIES|6600|10940|532488|100
    APOLLOHOSP|APOLLO HOSPITALS ENTER.|7500|157|508869|125
    INDUSINDBK|INDUSIND BANK|850|5258|532187|700
    SBILIFE|SBI LIFE INSURANCE|1980|21808|540719|375
    HDFCLIFE|HDFC LIFE INS CO|760|467|540777|1100
    TATACONSUM|TATA CONSUMER PRODUCTS|1160|3432|500800|550
    BAJAJ-AUTO|BAJAJ AUTO|8900|16669|532977|75
    SHRIRAMFIN|SHRIRAM FINANCE|750|0|511218|825
    TRENT|TRENT|4700|0|500251|100
    ETERNAL|ETERNAL|305|0|543320|2425
    JIOFIN|JIO FIN SERVICES|310|0|543940|2350
    BEL|BHARAT ELECTRONICS|420|0|500049|1425
    HAL|HINDUSTAN AERONAUTICS|4750|0|541154|150
    DLF|DLF|760|0|532868|825
    GODREJCP|GODREJ CONSUMER PRODUCTS|1150|0|532424|500
    PIDILITIND|PIDILITE INDUSTRIES|1480|0|500331|500
    SIEMENS|SIEMENS|3100|0|500550|125
    ABB|ABB INDIA|5200|0|500002|125
    HAVELLS|HAVELLS INDIA|1500|0|517354|500
    DABUR|DABUR INDIA|510|0|500096|1250
    MARICO|MARICO|720|0|531642|1200
    COLPAL|COLGATE PALMOLIVE|2200|0|500830|225
    BERGEPAINT|BERGER PAINTS (I)|540|0|509480|1100
    AMBUJACEM|AMBUJA CEMENTS|560|0|500425|1050
    SHREECEM|SHREE CEMENT|27500|0|500387|25
    ACC|ACC|1850|0|500410|300
    GAIL|GAIL (INDIA)|185|0|532155|3150
    IOC|INDIAN OIL CORP|165|0|530965|4875
    HINDPETRO|HINDUSTAN PETROLEUM CORP|470|0|500104|2025
    TATAPOWER|TATA POWER CO|395|0|500400|1450
    ADANIGREEN|ADANI GREEN ENERGY|1030|0|541450|600
    ADANIENSOL|ADANI ENERGY SOLUTION|980|0|539254|675
    PFC|POWER FIN CORP|375|0|532810|1300
    RECLTD|REC|360|0|532955|1275
    IRFC|INDIAN RAIL FIN CORP|122|0|543257|4250
    IRCTC|INDIAN RAIL TOUR CORP|700|0|542830|875
    BANKBARODA|BANK OF BARODA|285|0|532134|2925
    PNB|PUNJAB NATIONAL BANK|122|0|532461|8000
    CANBK|CANARA BANK|145|0|532483|6750
    UNIONBANK|UNION BANK OF INDIA|150|0|532477|4425
    INDIANB|INDIAN BANK|850|0|532814|1000
    FEDERALBNK|FEDERAL BANK|245|0|500469|5000
    IDFCFIRSTB|IDFC FIRST BANK|80|0|539437|9275
    BANDHANBNK|BANDHAN BANK|150|0|541153|3600
    AUBANK|AU SMALL FINANCE BANK|880|0|540611|1000
    YESBANK|YES BANK|23|0|532648|31100
    CHOLAFIN|CHOLAMANDALAM IN & FIN CO|1700|0|511243|625
    MUTHOOTFIN|MUTHOOT FINANCE|3300|0|533398|275
    MANAPPURAM|MANAPPURAM FINANCE|290|0|531213|3000
    LICHSGFIN|LIC HOUSING FINANCE|570|0|500253|1000
    LICI|LIFE INSURA CORP OF INDIA|900|0|543526|700
    ICICIGI|ICICI LOMBARD GIC|2000|0|540716|325
    ICICIPRULI|ICICI PRU LIFE INS CO|620|0|540133|925
    HDFCAMC|HDFC AMC|5500|0|541729|150
    SBICARD|SBI CARDS & PAY SER|880|0|543066|800
    PAYTM|ONE 97 COMMUNICATIONS|1300|0|543396|725
    POLICYBZR|PB FINTECH|1800|0|543390|350
    NAUKRI|INFO EDGE (I)|1400|0|532777|375
    LTIM|LTIMINDTREE|5900|0|540005|150
    MPHASIS|MPHASIS|2800|0|526299|275
    PERSISTENT|PERSISTENT SYSTEMS|6000|0|533179|100
    COFORGE|COFORGE|1800|0|532541|375
    OFSS|ORACLE FIN SERV SOFT|8600|0|532466|75
    KPITTECH|KPIT TECHNOLOGIES|1250|0|542651|425
    TATAELXSI|TATA ELXSI|5400|0|500408|100
    DIXON|DIXON TECHNO (INDIA)|15500|0|540699|50
    POLYCAB|POLYCAB INDIA|7400|0|542652|125
    CUMMINSIND|CUMMINS INDIA|4100|0|500480|200
    BHEL|BHEL|270|0|500103|2625
    BHARATFORG|BHARAT FORGE|1400|0|500493|500
    ASHOKLEY|ASHOK LEYLAND|145|0|500477|5000
    TVSMOTOR|TVS MOTOR COMPANY|3450|0|532343|175
    MOTHERSON|SAMVARDHANA MOTHERSON INT|105|0|517334|6150
    BOSCHLTD|BOSCH|37000|0|500530|25
    MRF|MRF|155000|0|500290|5
    EXIDEIND|EXIDE INDUSTRIES|385|0|500086|1800
    TATACHEM|TATA CHEMICALS|880|0|500770|650
    UPL|UPL|720|0|512070|1355
    PIIND|PI INDUSTRIES|3600|0|523642|175
    SRF|SRF|3000|0|503806|200
    DEEPAKNTR|DEEPAK NITRITE|1800|0|506401|300
    LUPIN|LUPIN|2000|0|500257|425
    AUROPHARMA|AUROBINDO PHARMA|1200|0|524804|550
    ZYDUSLIFE|ZYDUS LIFESCIENCES|980|0|532321|900
    TORNTPHARM|TORRENT PHARMACEUTICALS|3700|0|500420|250
    ALKEM|ALKEM LABORATORIES|5600|0|539523|125
    BIOCON|BIOCON|390|0|532523|2500
    GLENMARK|GLENMARK PHARMACEUTICALS|1900|0|532296|375
    MAXHEALTH|MAX HEALTHCARE INS|1150|0|543220|525
    FORTIS|FORTIS HEALTHCARE|1000|0|532843|775
    VEDL|VEDANTA|510|0|500295|1150
    NMDC|NMDC|75|0|526371|13500
    SAIL|STEEL AUTHORITY OF INDIA|135|0|500113|4700
    JINDALSTEL|JINDAL STEEL|1050|0|532286|625
    NATIONALUM|NATIONAL ALUMINIUM CO|240|0|532234|3750
    HINDZINC|HINDUSTAN ZINC|480|0|500188|1225
    GODREJPROP|GODREJ PROPERTIES|2200|0|533150|275
    OBEROIRLTY|OBEROI REALTY|1700|0|533273|350
    LODHA|LODHA DEVELOPERS|1200|0|543287|450
    PRESTIGE|PRESTIGE ESTATE PROJECTS|1650|0|533274|450
    PHOENIXLTD|PHOENIX MILLS|1700|0|503100|350
    INDIGO|INTERGLOBE AVIATION|5800|0|539448|150
    CONCOR|CONTAINER CORP OF IND|540|0|531344|1250
    INDHOTEL|INDIAN HOTELS CO|740|0|500850|1000
    JUBLFOOD|JUBILANT FOODWORKS|610|0|533155|1250
    DMART|AVENUE SUPERMARTS|4200|0|540376|150
    VOLTAS|VOLTAS|1380|0|500575|375
    BLUESTARCO|BLUE STAR|1850|0|500067|325
    CROMPTON|CROMPTON GR CON ELEC|300|0|539876|1800
    TATACOMM|TATA COMMUNICATIONS|1800|0|500483|350
    IDEA|VODAFONE IDEA|9.5|0|532822|71475
    INDUSTOWER|INDUS TOWERS|400|0|534816|1700
    ADANIPOWER|ADANI POWER|155|0|533096|3550
    TORNTPOWER|TORRENT POWER|1300|0|532779|375
    NHPC|NHPC|80|0|533098|6400
    SUZLON|SUZLON ENERGY|58|0|532667|8000
    MAZDOCK|MAZAGON DOCK SHIPBUIL|2800|0|543237|175
    BSE|BSE|2600|0|0|375
    CDSL|CENTRAL DEPO SER (I)|1550|0|0|475
    MCX|MULTI COMMODITY EXCHANGE|9500|0|534091|125
    ANGELONE|ANGEL ONE|2500|0|543235|250
    KAYNES|KAYNES TECHNOLOGY INDIA|6500|0|543664|100
    NYKAA|FSN E COMMERCE VENTURES|260|0|543384|3125
    NIFTYBEES|NIP IND ETF NIFTY BEES|290|0|590103|0
    BANKBEES|NIP IND ETF BANK BEES|600|0|590106|0
    GOLDBEES|NIP IND ETF GOLD BEES|100|0|590095|0
    SILVERBEES|NIP IND SILVER ETF|150|0|0|0
    LIQUIDBEES|NIP IND ETF LIQUID BEES|1000|0|590096|0
    JUNIORBEES|NIP IND ETF JUNIOR BEES|760|0|590104|0
    ITBEES|NIP IND ETF IT|40|0|0|0
    CPSEETF|NIP IND ETF CPSE|95|0|0|0
    TATAMOTORS|TATA MOTORS|400|0|0|0
    ZEEL|ZEE ENTERTAINMENT ENT|110|0|505537|0
    SUNTV|SUN TV NETWORK|580|0|532733|0
    RVNL|RAIL VIKAS NIGAM|320|0|542649|0
    IREDA|INDIAN RENEWABLE ENERGY|150|0|544026|0
    HUDCO|HSG & URBAN DEV CORPN|230|0|540530|0
    COCHINSHIP|COCHIN SHIPYARD|1750|0|540678|0
    BEML|BEML|4300|0|500048|0
    RAILTEL|RAILTEL CORP OF IND|370|0|543265|0
    IRCON|IRCON INTERNATIONAL|170|0|541956|0
    """
}
