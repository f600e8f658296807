// Typed errors for the broker wire formats. A struct with static codes, so cases can grow without breaking callers.

/// Names the wire format a ``WireError`` comes from; its ``name`` starts the error's description.
public protocol WireFormat: Sendable {
    /// `kite`, `dhan`, ...
    static var name: String { get }
}

/// Kite's ticker frames and text messages.
public enum KiteWireFormat: WireFormat {
    /// `kite`.
    public static let name = "kite"
}

/// Dhan's feed packets and requests.
public enum DhanWireFormat: WireFormat {
    /// `dhan`.
    public static let name = "dhan"
}

/// An error found while decoding a Kite frame or text message. Decoding never traps; it reports one of these.
public typealias KiteWireError = WireError<KiteWireFormat>

/// An error found while decoding Dhan feed data or requests. Decoding never traps; it reports one of these.
public typealias DhanWireError = WireError<DhanWireFormat>

/// What kind of problem a decoder found. Each format uses the codes that apply to it.
public struct WireErrorCode: Sendable, Hashable, CustomStringConvertible {
    @usableFromInline
    let name: String

    @usableFromInline
    init(_ name: String) { self.name = name }

    /// Kite: the frame ended inside its header or a packet's length prefix (or was empty).
    public static let truncatedFrame = WireErrorCode("truncatedFrame")
    /// Dhan: fewer than 8 bytes remain where a packet header should be (or the message is empty).
    public static let truncatedHeader = WireErrorCode("truncatedHeader")
    /// Kite: a packet's length prefix points past the end of the frame. Dhan: the packet is shorter than its
    /// response code requires.
    public static let truncatedPacket = WireErrorCode("truncatedPacket")
    /// Kite: a packet's length is not one of 8, 28, 32, 44, 184. The packet is skipped; the rest of the frame is decoded.
    public static let unknownPacketLength = WireErrorCode("unknownPacketLength")
    /// Dhan: the response code is not one this codec knows.
    public static let unknownResponseCode = WireErrorCode("unknownResponseCode")
    /// Kite: bytes remain after the number of packets the header announced.
    public static let trailingBytes = WireErrorCode("trailingBytes")
    /// A text message or request is not valid JSON.
    public static let invalidJSON = WireErrorCode("invalidJSON")
    /// A text message or request is valid JSON but not a message this codec knows (Dhan: an unknown `RequestCode`).
    public static let unknownMessage = WireErrorCode("unknownMessage")
    /// A known message has a field of the wrong type or out of range.
    public static let invalidField = WireErrorCode("invalidField")

    /// The code's name.
    public var description: String { name }
}

/// An error found while decoding data of the wire format `Format`. Decoding never traps; it reports one of these.
public struct WireError<Format: WireFormat>: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// What kind of problem was found.
    public typealias Code = WireErrorCode

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

    /// `"<format> wire: <code> at offset N: <message>"`, e.g. `kite wire: truncatedFrame at offset 0: empty frame`.
    public var description: String {
        if let offset {
            return "\(Format.name) wire: \(code) at offset \(offset): \(message)"
        }
        return "\(Format.name) wire: \(code): \(message)"
    }
}
