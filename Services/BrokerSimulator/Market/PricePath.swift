// The random walk every price in the simulator comes from: a pure function of (seed, underlying, Unix second).
//
// Log-price is built as a Brownian bridge on dyadic intervals of the Unix timeline (Lévy's construction): the value at
// the midpoint of an interval of 2^k seconds is the mean of its ends plus a hash-seeded Gaussian of variance
// σ²·2^k/4. Anchors every 2^25 s (~388 days) are pinned to the base price so prices stay realistic for decades.
// Any second costs 25 steps; a contiguous range costs about two hash evaluations per second.

import Foundation

/// The per-second log-price path of one underlying.
struct PricePath: Sendable {
    /// Levels above this are pinned to zero (2^25 s ≈ 388 days).
    static let topLevel = 25

    let key: UInt64
    let basePrice: Double
    /// Standard deviation of the midpoint displacement at each level, indexed by level.
    private let scales: [Double]

    /// - Parameters:
    ///   - seed: The simulator seed.
    ///   - name: The underlying's name (`NIFTY`, `RELIANCE`, `CRUDEOIL`); paths for different names are independent.
    ///   - basePrice: The price the path is pinned to at its anchors.
    ///   - annualVolatility: Volatility of log-price per calendar year.
    init(seed: UInt64, name: String, basePrice: Double, annualVolatility: Double) {
        key = SimHash.mix(seed ^ SimHash.fnv1a(name))
        self.basePrice = basePrice
        let perSecond = annualVolatility / (365.0 * 86_400).squareRoot()
        scales = (0...Self.topLevel).map { level in perSecond * Double(1 << level).squareRoot() / 2 }
    }

    /// Log-price offset from the base price at `second`.
    func logOffset(at second: Int64) -> Double {
        var level = Self.topLevel
        var index = second >> Int64(level)
        var left = 0.0
        var right = 0.0
        while level > 0 {
            if second == index << Int64(level) { return left }
            let mid = (left + right) * 0.5 + scales[level] * SimHash.gaussian(key ^ (UInt64(level) << 56) ^ UInt64(bitPattern: index))
            if (second >> Int64(level - 1)) & 1 == 0 {
                index = index << 1
                right = mid
            } else {
                index = index << 1 | 1
                left = mid
            }
            level -= 1
        }
        return left
    }

    /// The underlying's price at `second` (not rounded to a tick).
    func price(at second: Int64) -> Double {
        basePrice * Foundation.exp(logOffset(at: second))
    }

    /// Fills `out[i]` with the log offset at `start + i` for `count` seconds (same values as ``logOffset(at:)``).
    func fillLogOffsets(from start: Int64, count: Int, into out: inout [Double]) {
        if out.count < count { out = [Double](repeating: 0, count: count) }
        guard count > 0 else { return }
        let end = start + Int64(count)  // exclusive
        out.withUnsafeMutableBufferPointer { buffer in
            let top = Int64(Self.topLevel)
            var block = start >> top
            while block << top < end {
                descend(level: Self.topLevel, index: block, left: 0, right: 0, start: start, end: end, out: buffer)
                block += 1
            }
        }
    }

    private func descend(level: Int, index: Int64, left: Double, right: Double, start: Int64, end: Int64, out: UnsafeMutableBufferPointer<Double>) {
        let lo = index << Int64(level)
        let hi = lo + (1 << Int64(level))
        if hi <= start || lo >= end { return }
        if level == 0 {
            out[Int(lo - start)] = left
            return
        }
        let mid = (left + right) * 0.5 + scales[level] * SimHash.gaussian(key ^ (UInt64(level) << 56) ^ UInt64(bitPattern: index))
        descend(level: level - 1, index: index << 1, left: left, right: mid, start: start, end: end, out: out)
        descend(level: level - 1, index: index << 1 | 1, left: mid, right: right, start: start, end: end, out: out)
    }
}

/// Stable hashing (never Swift's per-process seeded `Hasher`): the same seed gives the same market in every run.
enum SimHash {
    /// SplitMix64's finaliser.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Mixes several values into one hash.
    @inline(__always)
    static func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64 = 0) -> UInt64 {
        mix(mix(a ^ mix(b)) ^ c &* 0x9E37_79B9_7F4A_7C15)
    }

    /// An approximately standard normal number (Irwin–Hall of four 16-bit uniforms, scaled to variance 1).
    @inline(__always)
    static func gaussian(_ input: UInt64) -> Double {
        let h = mix(input)
        let sum = (h & 0xFFFF) + (h >> 16 & 0xFFFF) + (h >> 32 & 0xFFFF) + (h >> 48)
        return (Double(sum) / 65_536.0 - 2.0) * 1.7320508075688772
    }

    /// A uniform number in [0, 1).
    @inline(__always)
    static func unit(_ input: UInt64) -> Double {
        Double(mix(input) >> 11) * 0x1.0p-53
    }

    /// FNV-1a of a string's UTF-8.
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }
}
