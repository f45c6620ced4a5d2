/** Entry of the staff console (職員コンソール), served at `/console`. */
import { mount } from '../shared/mount.tsx';
import { ConsolePage } from './console-page.tsx';

mount(<ConsolePage />);
