import SharedRedis

extension RESPValue {
    /// A flat `[field, value, ...]` reply as a dictionary: a stream entry's fields, or an `HGETALL`. Empty for any
    /// other reply.
    var fieldDictionary: [String: String] {
        guard let list = array else { return [:] }
        var fields: [String: String] = [:]
        fields.reserveCapacity(list.count / 2)
        var index = 0
        while index + 1 < list.count {
            if let field = list[index].string, let value = list[index + 1].string { fields[field] = value }
            index += 2
        }
        return fields
    }
}
