/// Rules for holder names (`api`, `user:42`, `tier:always-on`, `on-demand/chain-NIFTY`).
enum HolderName {
    /// The holder used when a request names none.
    static let defaultHolder = "api"
    /// Longest name accepted.
    static let maxLength = 128

    /// Why a name is refused, or nil when it is fine: 1–128 characters from letters, digits and `_ - . : @ /`.
    /// - Parameter name: The name.
    static func problem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.count > maxLength { return "must be at most \(maxLength) characters" }
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", "-", ".", ":", "@", "/": true
            default: false
            }
        }
        return allowed ? nil : "may contain only letters, digits and _ - . : @ /"
    }
}
