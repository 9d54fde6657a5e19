"""A Modbus server answering from a fixed register table the test writes by hand.

For profiles of devices no simulator models: the test puts each register's raw words where
the device's document says, so a wrong address or word order in the profile still shows.
Writes land in the table, so a later read sees them.
"""

from __future__ import annotations

from simulators.modbus import ModbusSimulator, RegisterImage


class RegisterTable(ModbusSimulator):
    """Registers by (table, address) on unit 1; unmapped addresses are illegal addresses."""

    name = "register_table"
    description = "a fixed register table on unit 1 (tests)"
    units = (1,)

    def __init__(self, registers: dict[tuple[str, int], int]) -> None:
        """Serve `registers` ((table, address) -> 16-bit word)."""
        super().__init__()
        self.registers = dict(registers)

    def render(self, image: RegisterImage) -> None:
        """Put the table into the image."""
        for (table, address), word in self.registers.items():
            image.put_registers(self.units[0], table, address, [word])

    def write(self, unit: int, table: str, address: int, values: list[int]) -> int | None:
        """Store the words."""
        for offset, word in enumerate(values):
            self.registers[(table, address + offset)] = word
        return None
