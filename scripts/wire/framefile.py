"""Reads the frame files the Swift tests and benchmark write: each frame is a u32 big-endian length, then the bytes."""
import struct


def read_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    frames = []
    at = 0
    while at + 4 <= len(data):
        (n,) = struct.unpack(">I", data[at:at + 4])
        at += 4
        frames.append(data[at:at + n])
        at += n
    return frames
