/// Where the `reconnect` gap of subscriptions restored at startup begins: the time of the last entry on
/// `{prefix}:ticks` (the last tick the previous run published) when there is one from the last
/// ``recentWindowMillis`` before the start, else the process start.
enum RestartGapStart {
    /// How old the last tick may be and still start the gap (older: the gap starts at the process start; the
    /// minutes in between have no ticks at all and are backfilled as missing).
    static let recentWindowMillis: Int64 = 24 * 3_600 * 1_000

    /// - Parameters:
    ///   - lastTickEntryID: The stream id of the last tick entry (`<ms>-<seq>`), if any.
    ///   - processStartMillis: When this process started, epoch ms.
    /// - Returns: Epoch ms.
    static func millis(lastTickEntryID: String?, processStartMillis: Int64) -> Int64 {
        guard let lastTickEntryID, let dash = lastTickEntryID.firstIndex(of: "-"), let millis = Int64(lastTickEntryID[..<dash]) else {
            return processStartMillis
        }
        guard millis <= processStartMillis, processStartMillis - millis <= recentWindowMillis else { return processStartMillis }
        return millis
    }
}
