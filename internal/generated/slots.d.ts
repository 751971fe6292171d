/** The shared argument array (`slot` in fast.rs). */
export declare const enum Slot {
    /** Numbers in the shared argument array. */
    SLOTS = 16,
    /** First output slot: slots `0..OUT` are a call's inputs, `OUT..SLOTS` its results. */
    OUT = 8
}
/** Input slots: what JavaScript writes before a fast call (`slot::arg`). */
export declare const enum Arg {
    /** The handle of the object the call works on. */
    HANDLE = 0,
    /** `DMA_BUF_SYNC_*` access bits: 1 read, 2 write, 3 both. */
    ACCESS = 1
}
/** Output slots as indices of the array (`slot::out` + OUT): what a call leaves beside its return value. */
export declare const enum Out {
    /** A new object's fd: `DmaBuf`, `SyncFile`, `PassedFd`, `Channel`, `Listener`, `DvbDemux`. */
    FD = 8,
    /** A new `DmaBuf`'s size in bytes (after its fd). */
    BUF_SIZE = 9,
    /** `udmabufAllocWithMemfd`: the memfd (after the `DmaBuf`'s fd and size). */
    MEMFD = 10,
    /** `bufMap`: the mapping's offset. */
    MAP_OFFSET = 8,
    /** `bufMap`: the mapping's length. */
    MAP_LENGTH = 9,
    /** `bufMap`: the mapping's access bits. */
    MAP_ACCESS = 10,
    /** A new `GemHandle`'s kernel number (`drmCreateDumb`, `drmImport`). */
    GEM_HANDLE = 8,
    /** `drmCreateDumb`: the pitch. */
    GEM_PITCH = 9,
    /** `drmCreateDumb`: the size. */
    GEM_SIZE = 10,
    /** A passed fd's kind (after its fd): 0 `DmaBuf`, 1 `SyncFile`, 2 `PassedFd`. */
    PASSED_KIND = 9,
    /** A passed dma-buf's size. */
    PASSED_SIZE = 10,
    /** `chanPair`: the second channel's fd (the first's is in `FD`). */
    PAIR_FD = 9,
    /** `chanFromFd`: 1 for a seqpacket socket, 0 for a stream. */
    SEQPACKET = 9,
    /** A new `VulkanBuffer`'s memory size. */
    VK_SIZE = 8,
    /** A new `VulkanBuffer`: 1 when its memory is host-visible. */
    VK_HOST_VISIBLE = 9
}
