/// An optional that a JSON body writes as `null` rather than leaving the key out (synthesized `Encodable` leaves a nil
/// `Optional` out), for the fields clients expect to see in every answer.
public struct Nullable<Wrapped: Encodable & Sendable>: Encodable, Sendable, ExpressibleByNilLiteral {
    /// The value, nil for `null`.
    public var value: Wrapped?

    /// Wraps a value.
    /// - Parameter value: The value, or nil for `null`.
    public init(_ value: Wrapped?) {
        self.value = value
    }

    /// `null`.
    /// - Parameter nilLiteral: `nil`.
    public init(nilLiteral: ()) {
        self.value = nil
    }

    /// Writes the value, or `null`.
    /// - Parameter encoder: The encoder.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}
