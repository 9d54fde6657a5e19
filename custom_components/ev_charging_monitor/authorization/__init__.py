"""Authorization: RFID cards, NFC tags and Home Assistant users; default deny, at the charger."""
