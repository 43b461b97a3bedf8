/// Encodes header lists into header blocks for one direction of one connection (RFC 7541 §6).
///
/// Indexing choices suit a server's responses: exact table matches become one-octet indexed fields; repeatable
/// fields such as `content-type: application/grpc` or `grpc-status: 0` enter the dynamic table so the next
/// response sends them as one octet; volatile fields (`date`, `grpc-message`, ...) are sent without indexing so
/// they do not evict the useful ones; credentials are never indexed (RFC 7541 §7.1.3).
public struct HPACKEncoder: Sendable {
    /// When string literals are Huffman-coded.
    public enum HuffmanPolicy: Sendable, Equatable {
        /// Never (the RFC's C.3 and C.5 examples).
        case never
        /// Always (the RFC's C.4 and C.6 examples).
        case always
        /// Only when the Huffman form is strictly shorter (the default).
        case whenShorter
    }

    /// The dynamic table as our peer's decoder will see it after our blocks so far.
    public private(set) var table: DynamicTable
    /// The Huffman policy for literals. Changing it forgets the remembered blocks, which were encoded under the old one.
    public var huffman: HuffmanPolicy { didSet { forgetBlocks() } }
    /// Our own ceiling on the table we keep, whatever larger size the peer allows: memory is per connection.
    public let tableSizeCeiling: Int
    /// Table size changes not yet announced: the smallest value seen since the last block, and the latest.
    private var pendingSizeUpdate: (smallest: Int, latest: Int)?

    /// A header list and the block it encoded to, kept while the table stays as it was when it was encoded.
    private struct RememberedBlock: Sendable {
        var fields: [HeaderField]
        var block: [UInt8]
    }
    /// Blocks that encoding left the dynamic table unchanged by, newest last, at most `rememberedBlockLimit`.
    ///
    /// A block is a function of the field list, the table, the Huffman policy and any pending size update, so
    /// while the table and policy are unchanged and no update is pending, encoding the same list again yields the
    /// same octets and leaves the table as it is: the remembered octets are then exactly what encoding would
    /// produce, and the peer's decoder state stays in step (RFC 7541 §2.2). A server answers every call of a
    /// kind with the same headers (gRPC's `:status 200`, `content-type`, `grpc-status: 0`), which after the
    /// first response are all table references; reusing their block skips the per-field table and set lookups.
    /// Every table change (an insertion, an eviction, a size update) and every policy change forgets them all.
    private var rememberedBlocks: [RememberedBlock] = []
    /// How many distinct header lists are remembered; 0 turns remembering off.
    public let rememberedBlockLimit: Int
    /// Counts changes to `table`, so an encode can tell whether it changed the table.
    private var tableChanges = 0

    /// Fields whose values change on nearly every message, so indexing them would only evict useful entries.
    static let volatileNames: Set<[UInt8]> = Set(
        [":path", "content-length", "date", "etag", "last-modified", "expires", "age", "grpc-message",
         "grpc-status-details-bin", "set-cookie", "location"].map { Array($0.utf8) })
    /// Fields that carry credentials; never indexed so an attacker cannot probe the table (CRIME-style).
    static let sensitiveNames: Set<[UInt8]> = Set(
        ["authorization", "proxy-authorization", "cookie", "token"].map { Array($0.utf8) })

    /// Creates an encoder.
    /// - Parameters:
    ///   - maxTableSize: the table size both sides assume at the start (the peer's SETTINGS_HEADER_TABLE_SIZE,
    ///     4096 until its SETTINGS arrive).
    ///   - tableSizeCeiling: the largest table we are willing to keep even if the peer allows more.
    ///   - huffman: when literals are Huffman-coded.
    ///   - rememberedBlockLimit: how many distinct header lists' blocks to reuse while the table is unchanged
    ///     (see `rememberedBlocks`); 0 encodes every block afresh.
    public init(maxTableSize: Int = 4096, tableSizeCeiling: Int = 4096, huffman: HuffmanPolicy = .whenShorter,
                rememberedBlockLimit: Int = 4) {
        precondition(maxTableSize >= 0 && tableSizeCeiling >= 0,
                     "HPACK encoder table sizes must not be negative (\(maxTableSize), \(tableSizeCeiling))")
        precondition(rememberedBlockLimit >= 0, "remembered block limit \(rememberedBlockLimit) must not be negative")
        self.table = DynamicTable(maxSize: maxTableSize)
        self.tableSizeCeiling = tableSizeCeiling
        self.huffman = huffman
        self.rememberedBlockLimit = rememberedBlockLimit
        if maxTableSize > tableSizeCeiling { pendingSizeUpdate = (tableSizeCeiling, tableSizeCeiling) }
    }

    /// Applies the peer's SETTINGS_HEADER_TABLE_SIZE. The change is announced at the start of the next block;
    /// if the size dipped and rose again in between, both the dip and the final size are announced, as RFC 7541
    /// §4.2 requires.
    public mutating func setPeerMaxTableSize(_ peerSize: Int) {
        precondition(peerSize >= 0, "peer header table size \(peerSize) must not be negative")
        let size = min(peerSize, tableSizeCeiling)
        if let pending = pendingSizeUpdate {
            pendingSizeUpdate = (min(pending.smallest, size), size)
        } else if size != table.maxSize {
            pendingSizeUpdate = (min(table.maxSize, size), size)
        }
    }

    /// Encodes `fields` as one header block.
    /// - Complexity: O(total field length + fields × table entries).
    public mutating func encode(_ fields: [HeaderField]) -> [UInt8] {
        var block: [UInt8] = []
        encode(fields, into: &block)
        return block
    }

    /// Appends the header block for `fields` to `output`.
    public mutating func encode(_ fields: [HeaderField], into output: inout [UInt8]) {
        if let pending = pendingSizeUpdate {
            if pending.smallest < pending.latest {
                PrefixInteger.encode(pending.smallest, prefixBits: 5, flags: 0x20, into: &output)
                changeTable { $0.setMaxSize(pending.smallest) }
            }
            PrefixInteger.encode(pending.latest, prefixBits: 5, flags: 0x20, into: &output)
            changeTable { $0.setMaxSize(pending.latest) }
            pendingSizeUpdate = nil
        } else if let remembered = rememberedBlocks.first(where: { $0.fields == fields }) {
            // Array equality is a pointer comparison when the caller passes the same constant list each time.
            output.append(contentsOf: remembered.block)
            return
        }
        let start = output.count
        let changesBefore = tableChanges
        for field in fields { encode(field, into: &output) }
        if tableChanges == changesBefore && rememberedBlockLimit > 0 {
            if rememberedBlocks.count >= rememberedBlockLimit { rememberedBlocks.removeFirst() }
            rememberedBlocks.append(RememberedBlock(fields: fields, block: Array(output[start...])))
        }
    }

    /// Applies a change to the dynamic table, forgetting the blocks encoded against the table as it was.
    private mutating func changeTable(_ change: (inout DynamicTable) -> Void) {
        change(&table)
        tableChanges &+= 1
        forgetBlocks()
    }

    private mutating func forgetBlocks() {
        if !rememberedBlocks.isEmpty { rememberedBlocks.removeAll(keepingCapacity: true) }
    }

    private mutating func encode(_ field: HeaderField, into output: inout [UInt8]) {
        let indexing = resolvedIndexing(field)
        let dynamic = table.search(name: field.name, value: field.value)
        if indexing != .neverIndexed {
            if let index = StaticTable.fieldIndex[StaticTable.Pair(field.name, field.value)] {
                PrefixInteger.encode(index, prefixBits: 7, flags: 0x80, into: &output)
                return
            }
            if let position = dynamic.exact {
                PrefixInteger.encode(StaticTable.count + position, prefixBits: 7, flags: 0x80, into: &output)
                return
            }
        }
        let nameIndex = StaticTable.nameIndex[field.name] ?? dynamic.nameOnly.map { StaticTable.count + $0 } ?? 0
        switch indexing {
        case .incremental, .automatic:
            PrefixInteger.encode(nameIndex, prefixBits: 6, flags: 0x40, into: &output)
        case .withoutIndexing:
            PrefixInteger.encode(nameIndex, prefixBits: 4, flags: 0x00, into: &output)
        case .neverIndexed:
            PrefixInteger.encode(nameIndex, prefixBits: 4, flags: 0x10, into: &output)
        }
        if nameIndex == 0 { encodeString(field.name, into: &output) }
        encodeString(field.value, into: &output)
        if indexing == .incremental { changeTable { $0.add(field) } }
    }

    /// Turns `.automatic` into a concrete choice; the result is never `.automatic`.
    private func resolvedIndexing(_ field: HeaderField) -> HeaderIndexing {
        guard field.indexing == .automatic else { return field.indexing }
        if Self.sensitiveNames.contains(field.name) { return .neverIndexed }
        // An entry bigger than half the table would flush most of it for one field.
        if Self.volatileNames.contains(field.name) || field.size > table.maxSize / 2 { return .withoutIndexing }
        return .incremental
    }

    private func encodeString(_ bytes: [UInt8], into output: inout [UInt8]) {
        let huffmanLength = huffman == .never ? Int.max : Huffman.encodedLength(of: bytes)
        if huffman == .always || huffmanLength < bytes.count {
            PrefixInteger.encode(huffmanLength, prefixBits: 7, flags: 0x80, into: &output)
            Huffman.encode(bytes, into: &output)
        } else {
            PrefixInteger.encode(bytes.count, prefixBits: 7, flags: 0x00, into: &output)
            output.append(contentsOf: bytes)
        }
    }
}
