#!/usr/bin/env python3
"""espeak-word-events.py VOICE TEXT_FILE OUT_WAV

Reference word timings from espeak-ng itself: synthesises TEXT_FILE (UTF-8) with libespeak-ng
(the library the espeak-ng command uses, same voice and default rate) and prints, as JSON, the
word events the engine reports while it makes the samples — each word's character offset and
length in the text and its audio position in ms — plus the samples it made (written to OUT_WAV,
22,050 Hz mono 16-bit) so the caller can check that they are what `espeak-ng -w` writes.
Needs libespeak-ng.so.1 (Debian package libespeak-ng1, a dependency of espeak-ng).
"""
import ctypes, json, sys, wave

EVENT_WORD, EVENT_END, EVENT_LIST_TERMINATED = 1, 5, 0

class Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]

def main():
    voice, text_file, out_wav = sys.argv[1:4]
    text = open(text_file, encoding="utf-8").read()
    lib = ctypes.CDLL("libespeak-ng.so.1")
    rate = lib.espeak_Initialize(2, 0, None, 0)  # AUDIO_OUTPUT_SYNCHRONOUS
    if rate <= 0:
        sys.exit("espeak_Initialize failed")
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        sys.exit(f"no voice {voice}")
    samples, words = [], []
    CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(Event))
    def on_synth(wav, count, events):
        if wav and count > 0:
            samples.append(ctypes.string_at(wav, count * 2))
        i = 0
        while events[i].type != EVENT_LIST_TERMINATED:
            e = events[i]
            if e.type == EVENT_WORD:
                words.append({"charStart": e.text_position - 1, "length": e.length, "ms": e.audio_position})
            i += 1
        return 0
    cb = CALLBACK(on_synth)
    lib.espeak_SetSynthCallback(cb)
    data = text.encode("utf-8")
    lib.espeak_Synth(ctypes.c_char_p(data), len(data) + 1, 0, 1, 0, 1, None, None)  # POS_CHARACTER, espeakCHARS_UTF8
    lib.espeak_Synchronize()
    pcm = b"".join(samples)
    with wave.open(out_wav, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(rate); w.writeframes(pcm)
    for w_ in words:
        w_["text"] = text[w_["charStart"]:w_["charStart"] + w_["length"]]
    json.dump({"sampleRate": rate, "durationMs": len(pcm) / 2 / rate * 1000, "words": words}, sys.stdout, ensure_ascii=False)

main()
