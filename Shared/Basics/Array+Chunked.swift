extension Array {
    /// Consecutive slices of at most `size` elements (a `size` below 1 counts as 1), e.g. a subscribe batch or the tokens
    /// of one feed-gap entry.
    /// - Parameter size: The most elements per slice.
    /// - Returns: The slices in order; none for an empty array.
    public func chunked(_ size: Int) -> [[Element]] {
        guard !isEmpty else { return [] }
        let size = Swift.max(1, size)
        return stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
