import Foundation

/// The file format scripts/wire/framefile.py reads: each frame as a big-endian u32 length, then its bytes.
/// The wire cross-check tests and the wire benchmark hand frames to the brokers' Python parsers this way.
public enum FrameFile {
    /// Writes `frames` to `url`, replacing the file.
    public static func write(_ frames: [[UInt8]], to url: URL) throws {
        var data = Data()
        data.reserveCapacity(frames.reduce(0) { $0 + $1.count + 4 })
        for frame in frames {
            let n = UInt32(frame.count)
            data.append(contentsOf: [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)])
            data.append(contentsOf: frame)
        }
        try data.write(to: url)
    }
}
