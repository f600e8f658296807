// Typed errors for the Kite wire format. A struct with static codes, so cases can grow without breaking callers.

/// An error found while decoding a Kite frame or text message. Decoding never traps; it reports one of these.
public struct KiteWireError: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// What kind of problem was found.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        @usableFromInline
        let name: String

        @usableFromInline
        init(_ name: String) { self.name = name }

        /// The frame ended inside its header or a packet's length prefix (or was empty).
        public static let truncatedFrame = Code("truncatedFrame")
        /// A packet's length prefix points past the end of the frame.
        public static let truncatedPacket = Code("truncatedPacket")
        /// A packet's length is not one of 8, 28, 32, 44, 184. The packet is skipped; the rest of the frame is decoded.
        public static let unknownPacketLength = Code("unknownPacketLength")
        /// Bytes remain after the number of packets the header announced.
        public static let trailingBytes = Code("trailingBytes")
        /// A text message is not valid JSON.
        public static let invalidJSON = Code("invalidJSON")
        /// A text message is valid JSON but not a message this codec knows.
        public static let unknownMessage = Code("unknownMessage")
        /// A known message has a field of the wrong type or out of range.
        public static let invalidField = Code("invalidField")

        /// The code's name.
        public var description: String { name }
    }

    /// What kind of problem was found.
    public var code: Code
    /// A human-readable explanation.
    public var message: String
    /// The byte offset in the frame (or text) where the problem was found, when known.
    public var offset: Int?

    /// Creates an error.
    /// - Parameters:
    ///   - code: What kind of problem was found.
    ///   - message: A human-readable explanation.
    ///   - offset: The byte offset where it was found.
    public init(_ code: Code, _ message: String, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    /// `"kite wire: <code> at offset N: <message>"`.
    public var description: String {
        if let offset {
            return "kite wire: \(code) at offset \(offset): \(message)"
        }
        return "kite wire: \(code): \(message)"
    }
}
