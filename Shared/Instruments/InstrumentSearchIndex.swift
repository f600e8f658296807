#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The registry's search, built once per load so that a query touches only what it matches.
///
/// Entries are kept in **result order** (equities and indices, then futures, then options; nearer expiries, lower
/// strikes, then symbol and token), so an entry's position is its rank within a match class. Two permutations sorted by
/// the uppercased symbol and by the uppercased name find every prefix match by binary search; the best `limit` of a
/// prefix range are the `limit` smallest positions in it. "Contains" matches are found with `memchr`/`memcmp` over one blob of
/// every symbol and name laid out in result order, so the first `limit` hits are the best ones.
struct InstrumentSearchIndex: Sendable {
    struct Entry: Sendable {
        var symbol: [UInt8]
        var name: [UInt8]
        var exchange: String
        var instrumentType: String
        var token: Int64
    }

    /// In result order.
    let entries: [Entry]
    /// Positions into `entries`, sorted by symbol bytes, then position.
    private let bySymbol: [Int32]
    /// Positions into `entries`, sorted by name bytes, then position.
    private let byName: [Int32]
    /// Every entry's `symbol \n name \n`, in result order.
    private let blob: [UInt8]
    /// Where each entry starts in `blob`.
    private let offsets: [Int32]

    /// - Parameter entries: In result order.
    init(_ entries: [Entry]) {
        self.entries = entries
        let positions = (0..<Int32(entries.count)).map { $0 }
        bySymbol = positions.sorted { Self.less(entries[Int($0)].symbol, $0, entries[Int($1)].symbol, $1) }
        byName = positions.sorted { Self.less(entries[Int($0)].name, $0, entries[Int($1)].name, $1) }
        var blob: [UInt8] = []
        var offsets: [Int32] = []
        offsets.reserveCapacity(entries.count)
        for entry in entries {
            offsets.append(Int32(blob.count))
            blob += entry.symbol
            blob.append(0x0A)
            blob += entry.name
            blob.append(0x0A)
        }
        self.blob = blob
        self.offsets = offsets
    }

    private static func less(_ a: [UInt8], _ i: Int32, _ b: [UInt8], _ j: Int32) -> Bool {
        a.lexicographicallyPrecedes(b) || (a == b && i < j)
    }

    /// Positions of the best matches, best first: exact symbol, symbol prefix, exact name, name prefix, contains.
    /// - Parameters:
    ///   - needle: The uppercased query as bytes (not empty).
    ///   - accept: Whether an entry passes the caller's filters.
    func search(_ needle: [UInt8], limit: Int, accept: (Entry) -> Bool) -> [Int] {
        var taken = Set<Int>()
        var result: [Int] = []
        func add(_ positions: [Int]) {
            for position in positions where result.count < limit && taken.insert(position).inserted { result.append(position) }
        }
        let symbols = range(of: needle, in: bySymbol, key: \.symbol)
        let names = range(of: needle, in: byName, key: \.name)
        // Exact matches sort first within a prefix range (a shorter key precedes its extensions).
        add(best(symbols, in: bySymbol, limit: limit) { entries[$0].symbol.count == needle.count && accept(entries[$0]) })
        add(best(symbols, in: bySymbol, limit: limit) { entries[$0].symbol.count > needle.count && accept(entries[$0]) })
        add(best(names, in: byName, limit: limit) { !taken.contains($0) && entries[$0].name.count == needle.count && accept(entries[$0]) })
        add(best(names, in: byName, limit: limit) { !taken.contains($0) && entries[$0].name.count > needle.count && accept(entries[$0]) })
        if result.count < limit { add(containing(needle, limit: limit) { !taken.contains($0) && accept(entries[$0]) }) }
        return result
    }

    /// The range of `order` whose keys start with `needle` (binary search).
    private func range(of needle: [UInt8], in order: [Int32], key: KeyPath<Entry, [UInt8]>) -> Range<Int> {
        func lowerBound(_ precedes: ([UInt8]) -> Bool) -> Int {
            var low = 0
            var high = order.count
            while low < high {
                let middle = (low + high) / 2
                if precedes(entries[Int(order[middle])][keyPath: key]) { low = middle + 1 } else { high = middle }
            }
            return low
        }
        let start = lowerBound { $0.lexicographicallyPrecedes(needle) }
        let end = lowerBound { $0.lexicographicallyPrecedes(needle) || $0.starts(with: needle) }
        return start..<max(start, end)
    }

    /// The `limit` smallest positions in `order[range]` that pass `accept`, ascending.
    private func best(_ range: Range<Int>, in order: [Int32], limit: Int, accept: (Int) -> Bool) -> [Int] {
        var kept: [Int] = []
        kept.reserveCapacity(limit + 1)
        for slot in range {
            let position = Int(order[slot])
            if kept.count == limit, let worst = kept.last, position > worst { continue }
            guard accept(position) else { continue }
            let at = kept.firstIndex { $0 > position } ?? kept.count
            kept.insert(position, at: at)
            if kept.count > limit { kept.removeLast() }
        }
        return kept
    }

    /// The first `limit` positions whose symbol or name contains `needle` and that pass `accept`, in result order.
    private func containing(_ needle: [UInt8], limit: Int, accept: (Int) -> Bool) -> [Int] {
        var found: [Int] = []
        var lastPosition = -1
        blob.withUnsafeBytes { haystack in
            needle.withUnsafeBytes { pattern in
                guard let base = haystack.baseAddress, let wanted = pattern.baseAddress else { return }
                var from = 0
                while found.count < limit, from < haystack.count {
                    guard let offset = Self.find(wanted, pattern.count, in: base, haystack.count, from: from) else { break }
                    // The entry whose bytes hold the hit: the last offset at or before it.
                    var low = 0
                    var high = offsets.count
                    while low < high {
                        let middle = (low + high) / 2
                        if Int(offsets[middle]) <= offset { low = middle + 1 } else { high = middle }
                    }
                    let position = low - 1
                    if position != lastPosition, accept(position) { found.append(position) }
                    lastPosition = position
                    // Go on after this entry (one hit per entry is enough).
                    from = position + 1 < offsets.count ? Int(offsets[position + 1]) : haystack.count
                }
            }
        }
        return found
    }

    /// The first offset at or after `from` where `pattern` occurs: `memchr` for its first byte (vectorised in libc),
    /// then `memcmp` for the rest.
    private static func find(_ pattern: UnsafeRawPointer, _ length: Int, in base: UnsafeRawPointer, _ count: Int, from: Int) -> Int? {
        let first = Int32(pattern.load(as: UInt8.self))
        var at = from
        while at + length <= count {
            guard let hit = memchr(base + at, first, count - at - length + 1) else { return nil }
            let offset = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(hit, pattern, length) == 0 { return offset }
            at = offset + 1
        }
        return nil
    }
}
