// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title CheckpointAnchor
/// @notice Publishes transparency-log checkpoint roots as events.
/// @dev Stateless on purpose: one transaction per checkpoint, whatever the number of
///      entries it covers, and no storage writes. A verifier finds the anchor through the
///      transaction receipt and checks the event emitted by this contract's address.
///      `originHash` is keccak256 of the checkpoint origin line (UTF-8), `treeSize` and
///      `root` are the checkpoint's size and RFC 6962 root hash.
contract CheckpointAnchor {
    event Anchored(
        bytes32 indexed originHash,
        uint64 indexed treeSize,
        bytes32 root,
        address indexed submitter
    );

    function anchor(bytes32 originHash, uint64 treeSize, bytes32 root) external {
        emit Anchored(originHash, treeSize, root, msg.sender);
    }
}
