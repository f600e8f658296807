import Foundation

/// Reads the operations of `docs/openapi/*.yaml` and checks a spec file as OpenAPI 3, for the tests that keep the specs
/// and the routers equal.
public enum OpenAPISpec {
    /// The package root, from this file's path (Tests/TestSupport/<file>).
    public static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `docs/openapi/<name>`.
    /// - Parameter name: The file's name, e.g. `ticker-service.yaml`.
    public static func file(_ name: String) -> URL {
        root.appendingPathComponent("docs/openapi/\(name)")
    }

    static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// Every operation of the spec as `METHOD /path`, e.g. `GET /subscriptions/{token}`: the keys of `paths` (two
    /// spaces in) and the methods under each (four spaces in), as our specs are written.
    /// - Parameter text: The YAML.
    public static func operations(_ text: String) -> Set<String> {
        var result = Set<String>()
        var inPaths = false
        var path: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.trimmingCharacters(in: .whitespaces).hasPrefix("#") { continue }
            if !line.hasPrefix(" ") {
                inPaths = line.hasPrefix("paths:")
                path = nil
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  "), !line.hasPrefix("   ") {
                let key = line.dropFirst(2).split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
                path = key.trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let path {
                let key = line.dropFirst(4).split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
                if methods.contains(key) { result.insert("\(key.uppercased()) \(path)") }
            }
        }
        return result
    }

    /// The documented methods of each path, e.g. `["/subscriptions": ["GET", "POST"]]`.
    /// - Parameter url: The spec file.
    public static func methodsByPath(file url: URL) throws -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for operation in try operations(file: url) {
            let parts = operation.split(separator: " ", maxSplits: 1).map(String.init)
            result[parts[1], default: []].insert(parts[0])
        }
        return result
    }

    /// A concrete request path for a documented one: each `{parameter}` becomes `value`.
    /// - Parameters:
    ///   - path: E.g. `/subscriptions/{token}`.
    ///   - value: What each parameter is replaced with.
    public static func concretePath(_ path: String, value: String = "256265") -> String {
        path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("{") && $0.hasSuffix("}") ? value : String($0) }
            .joined(separator: "/")
    }

    /// The operations of a spec file.
    /// - Parameter url: The file.
    public static func operations(file url: URL) throws -> Set<String> {
        operations(try String(contentsOf: url, encoding: .utf8))
    }

    /// Runs `openapi-spec-validator` (from `.venv`, or `$PROJECT_VENV`) on a spec file.
    /// - Parameter url: The file.
    /// - Returns: nil when the file is valid OpenAPI, else the validator's output.
    public static func validationProblems(file url: URL) throws -> String? {
        let validator = Command.venv + "/bin/openapi-spec-validator"
        guard FileManager.default.isExecutableFile(atPath: validator) else {
            throw ValidatorMissing(path: validator)
        }
        let outcome = try Command.run(validator, [url.path])
        return outcome.status == 0 ? nil : "exit \(outcome.status): \(outcome.output.suffix(4000))"
    }

    /// `openapi-spec-validator` is not installed.
    public struct ValidatorMissing: Error, CustomStringConvertible {
        /// Where it was looked for.
        public var path: String
        public var description: String { "no \(path): run `make venv` (scripts/venv.sh installs openapi-spec-validator)" }
    }
}
