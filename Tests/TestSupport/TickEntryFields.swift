/// The fields of one `{prefix}:ticks` entry exactly as docs/feed.md documents them (field names, decimal strings, epoch
/// units), for tests that feed the tick consumer without a broker.
public enum TickEntryFields {
    public static func full(token: Int64, price: String, volume: Int64?, oi: Int64?, ets: Int64, index: Bool = false) -> [(String, String)] {
        var fields: [(String, String)] = [("tk", String(token)), ("m", "full"), ("lp", price), ("rt", String(ets * 1000 + 123))]
        if index {
            return fields + [("o", price), ("h", price), ("l", price), ("c", price), ("ch", "0.00"), ("ets", String(ets))]
        }
        fields += [
            ("ltq", "12"), ("atp", price), ("v", String(volume ?? 0)), ("tbq", "5100"), ("tsq", "4800"),
            ("o", price), ("h", price), ("l", price), ("c", price),
            ("ltt", String(ets - 1)), ("oi", String(oi ?? 0)), ("oih", "0"), ("oil", "0"), ("ets", String(ets)),
            ("d", #"{"b":[[1523.40,100,3],[1523.35,50,1],[1523.30,75,2],[1523.25,10,1],[1523.20,5,1]],"s":[[1523.50,20,1],[1523.55,40,2],[1523.60,60,3],[1523.65,80,4],[1523.70,100,5]]}"#),
        ]
        return fields
    }
}
