/// The prefix-integer primitive of RFC 7541 §5.1: a value packed into the low N bits of a first octet, with
/// continuation octets of 7 bits each when it does not fit.
enum PrefixInteger {
    /// Largest value the decoder accepts. Every length and index HPACK carries is far below this; capping it
    /// bounds the number of continuation octets and keeps arithmetic overflow impossible.
    static let maximum = Int(UInt32.max)

    /// Appends `value` with an `prefixBits`-bit prefix, OR-ing `flags` into the first octet's high bits.
    static func encode(_ value: Int, prefixBits: Int, flags: UInt8, into output: inout [UInt8]) {
        precondition(value >= 0 && (1...8).contains(prefixBits), "prefix integer \(value) / \(prefixBits) bits")
        let limit = (1 << prefixBits) - 1
        if value < limit {
            output.append(flags | UInt8(value))
            return
        }
        output.append(flags | UInt8(limit))
        var rest = value - limit
        while rest >= 128 {
            output.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        output.append(UInt8(rest))
    }

    /// Reads an integer whose prefix occupies the low `prefixBits` of `bytes[position]`, advancing `position`.
    /// - Throws: `.truncatedBlock` if the octets end early, `.integerOverflow` past `maximum`.
    static func decode(_ bytes: [UInt8], at position: inout Int, prefixBits: Int) throws(HPACKError) -> Int {
        guard position < bytes.count else { throw .truncatedBlock }
        let limit = (1 << prefixBits) - 1
        var value = Int(bytes[position]) & limit
        position += 1
        if value < limit { return value }
        var shift = 0
        while true {
            guard position < bytes.count else { throw .truncatedBlock }
            let octet = bytes[position]
            position += 1
            // Five continuation octets carry 35 bits, more than `maximum` needs; a sixth can only pad or overflow.
            guard shift <= 28 else { throw .integerOverflow }
            value += Int(octet & 0x7F) << shift
            guard value <= maximum else { throw .integerOverflow }
            if octet & 0x80 == 0 { return value }
            shift += 7
        }
    }
}
