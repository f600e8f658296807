import Foundation

/// An accounts file with the simulator's three API keys: 3 accounts × 3 connections × 3,000 instruments, and
/// three times Kite's historical rate (3 requests/s per key).
enum SimulatorAccounts {
    static let count = 3

    /// Writes the file to a temporary path and returns the path; the caller removes it.
    static func writeFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bench-accounts-\(UUID().uuidString).json").path
        try """
        [{"id":"primary","api_key":"sim_api_key","access_token":"sim_access_token"},
         {"id":"secondary","api_key":"sim_api_key_2","access_token":"sim_access_token_2"},
         {"id":"tertiary","api_key":"sim_api_key_3","access_token":"sim_access_token_3"}]
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Writes a file with one Dhan account (5 connections × 5,000 instruments) and returns the path; the caller removes
    /// it. Its URLs come from `DHAN_WS_URL`/`DHAN_URL`, which the platform points at the simulator.
    static func writeDhanFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bench-dhan-accounts-\(UUID().uuidString).json").path
        try """
        [{"id":"dhan","broker":"dhan","client_id":"sim_api_key","access_token":"sim_access_token"}]
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
