"""Screens of the app: the chat, and the modal screens it pushes."""
