/** A button for an operator action: disabled, with the reason as its tooltip, for a viewer. */
import type { ButtonHTMLAttributes } from "react";
import { useStore } from "../../state/store";
import { operatorBlock, roleStore } from "../../state/role";

export function useOperatorBlock(): string | null {
  return operatorBlock(useStore(roleStore));
}

export function OpButton({ disabled, title, ...rest }: ButtonHTMLAttributes<HTMLButtonElement>) {
  const why = useOperatorBlock();
  return <button {...rest} data-operator="1" disabled={disabled || why !== null} title={why ?? title} />;
}
