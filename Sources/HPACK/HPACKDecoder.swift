/// Decodes complete header blocks (RFC 7541 §3) for one direction of one connection.
///
/// A value type: the dynamic table is the only state, and it must see every block of the connection in order,
/// including blocks whose stream is later refused, or it falls out of step with the peer's encoder.
public struct HPACKDecoder: Sendable {
    /// The dynamic table as the peer's encoder last shaped it.
    public private(set) var table: DynamicTable
    /// The SETTINGS_HEADER_TABLE_SIZE we advertised; a size update above it is a decoding error.
    public private(set) var maxTableSize: Int
    /// Largest header list accepted, counted as RFC 9113 §6.5.2 defines SETTINGS_MAX_HEADER_LIST_SIZE.
    public var maxHeaderListSize: Int
    /// Longest single name or value accepted, after Huffman decoding.
    public var maxStringLength: Int

    /// Creates a decoder whose table starts at `maxTableSize` (the setting both sides assume initially).
    /// - Parameters:
    ///   - maxTableSize: the SETTINGS_HEADER_TABLE_SIZE we advertise (RFC default 4096).
    ///   - maxHeaderListSize: the SETTINGS_MAX_HEADER_LIST_SIZE we advertise.
    ///   - maxStringLength: the longest name or value we are willing to hold.
    public init(maxTableSize: Int = 4096, maxHeaderListSize: Int = 16 * 1024, maxStringLength: Int = 16 * 1024) {
        precondition(maxTableSize >= 0 && maxHeaderListSize > 0 && maxStringLength > 0,
                     "HPACK decoder limits must be positive (table \(maxTableSize), list \(maxHeaderListSize))")
        self.table = DynamicTable(maxSize: maxTableSize)
        self.maxTableSize = maxTableSize
        self.maxHeaderListSize = maxHeaderListSize
        self.maxStringLength = maxStringLength
    }

    /// Decodes one complete header block into fields, in order, updating the dynamic table.
    ///
    /// - Parameter block: the concatenated fragments of a HEADERS/PUSH_PROMISE frame and its CONTINUATIONs.
    /// - Returns: the fields; never-indexed literals carry `.neverIndexed`, all others `.automatic`.
    /// - Throws: `HPACKError`. On `.headerListTooLarge` the whole block was still processed and the table is
    ///   in step; every other error leaves the table unusable and must end the connection.
    /// - Complexity: O(block length + table entries touched).
    public mutating func decode(_ block: [UInt8]) throws(HPACKError) -> [HeaderField] {
        var fields: [HeaderField] = []
        // A request carries a dozen fields or so: room for them up front instead of growing 1, 2, 4, 8, 16.
        fields.reserveCapacity(min(block.count, 16))
        var position = 0
        var listSize = 0
        var sawField = false
        while position < block.count {
            let first = block[position]
            let field: HeaderField
            if first & 0x80 != 0 {
                field = try indexedField(PrefixInteger.decode(block, at: &position, prefixBits: 7))
            } else if first & 0xC0 == 0x40 {
                field = try literal(block, at: &position, prefixBits: 6, indexing: .automatic)
                table.add(field)
            } else if first & 0xE0 == 0x20 {
                guard !sawField else { throw .tableSizeUpdateNotAtBlockStart }
                let requested = try PrefixInteger.decode(block, at: &position, prefixBits: 5)
                guard requested <= maxTableSize else {
                    throw .tableSizeUpdateTooLarge(requested: requested, limit: maxTableSize)
                }
                table.setMaxSize(requested)
                continue
            } else {
                let indexing: HeaderIndexing = first & 0x10 != 0 ? .neverIndexed : .automatic
                field = try literal(block, at: &position, prefixBits: 4, indexing: indexing)
            }
            sawField = true
            listSize += field.size
            // Past the limit, keep decoding so the table stays in step, but stop holding fields.
            if listSize <= maxHeaderListSize { fields.append(field) }
        }
        guard listSize <= maxHeaderListSize else {
            throw .headerListTooLarge(size: listSize, limit: maxHeaderListSize)
        }
        return fields
    }

    /// Lowers or raises the SETTINGS_HEADER_TABLE_SIZE we advertise. The peer signals its adoption with a size
    /// update; until then entries it already indexed stay valid, so the current table is left alone.
    public mutating func setMaxTableSize(_ newValue: Int) {
        precondition(newValue >= 0, "header table size \(newValue) must not be negative")
        maxTableSize = newValue
    }

    /// The field at an absolute index: 1...61 static, then the dynamic table newest first.
    private func indexedField(_ index: Int) throws(HPACKError) -> HeaderField {
        if index >= 1 && index <= StaticTable.count {
            let entry = StaticTable.entries[index - 1]
            return HeaderField(name: entry.name, value: entry.value)
        }
        guard index > StaticTable.count, let field = table.entry(at: index - StaticTable.count) else {
            throw .invalidIndex(index)
        }
        return field
    }

    /// Reads a literal representation whose name index uses `prefixBits` (0 means a literal name follows).
    private func literal(_ block: [UInt8], at position: inout Int, prefixBits: Int,
                         indexing: HeaderIndexing) throws(HPACKError) -> HeaderField {
        let nameIndex = try PrefixInteger.decode(block, at: &position, prefixBits: prefixBits)
        let name = try nameIndex == 0 ? string(block, at: &position) : indexedField(nameIndex).name
        let value = try string(block, at: &position)
        return HeaderField(name: name, value: value, indexing: indexing)
    }

    /// Reads a string literal (RFC 7541 §5.2): H flag, 7-bit prefix length, then raw or Huffman octets.
    private func string(_ block: [UInt8], at position: inout Int) throws(HPACKError) -> [UInt8] {
        guard position < block.count else { throw .truncatedBlock }
        let isHuffman = block[position] & 0x80 != 0
        let length = try PrefixInteger.decode(block, at: &position, prefixBits: 7)
        guard length <= block.count - position else { throw .truncatedBlock }
        let range = position..<(position + length)
        position += length
        if isHuffman {
            return try Huffman.decode(block, range, maxLength: maxStringLength)
        }
        guard length <= maxStringLength else { throw .stringTooLong(length: length, limit: maxStringLength) }
        return Array(block[range])
    }
}
