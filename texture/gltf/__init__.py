"""glTF 2.0 export of rigged avatars and the Khronos validator."""
